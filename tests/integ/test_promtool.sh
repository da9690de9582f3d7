#!/usr/bin/env bash
# test_promtool.sh -- the Prometheus side of monitoring (SPEC section 8):
#   * the registry's rendering of every service family passes
#     `promtool check metrics` (format + lint), via test_net_metrics with
#     VX_METRICS_DUMP;
#   * deploy/alerts.yml passes `promtool check rules` and behaves as intended
#     on synthetic series (`promtool test rules`);
#   * deploy/prometheus.yml passes `promtool check config` from any working
#     directory (its rule_files path is relative to the file);
#   * every PromQL expression of deploy/grafana-dashboard.json parses and
#     uses only exported families;
#   * deploy/voxclone.service, deploy/voxclone-gateway.service and the template
#     deploy/voxclone-worker@.service (as instance @1) pass `systemd-analyze
#     verify` when that tool works here; deploy/voxclone.env.example sets every
#     variable the units use.
# Usage (ctest): bash test_promtool.sh BINARY_DIR/voxclone SHARED_DIR
# Skips (exit 0) only when promtool is not installed.
set -u
bin_dir=$(cd "$(dirname "${1:?usage: test_promtool.sh BINARY_DIR/voxclone [SHARED_DIR]}")" && pwd)
src_dir=$(cd "$(dirname "$0")/../.." && pwd)
deploy="$src_dir/deploy"

if ! command -v promtool >/dev/null 2>&1; then
  echo "SKIP: promtool not found (Debian package 'prometheus'; scripts/install-deps.sh installs it)"
  exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
pass() { echo "ok: $*"; }
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# ---- 1. registry rendering -------------------------------------------------
dumper="$bin_dir/test_net_metrics"
if [ ! -x "$dumper" ]; then
  fail "$dumper not built"
elif ! VX_METRICS_DUMP="$tmp/metrics.txt" "$dumper" || [ ! -s "$tmp/metrics.txt" ]; then
  fail "test_net_metrics could not write the registry rendering"
else
  if out=$(promtool check metrics < "$tmp/metrics.txt" 2>&1); then
    pass "promtool check metrics ($(grep -c '^# TYPE' "$tmp/metrics.txt") families)"
  else
    fail "promtool check metrics:"; echo "$out"
  fi
  # the check itself must be able to fail (lint problems exit non-zero too)
  printf '# HELP bad A counter without _total.\n# TYPE bad counter\nbad 1\n' > "$tmp/bad.txt"
  if promtool check metrics < "$tmp/bad.txt" >/dev/null 2>&1; then
    fail "promtool check metrics accepted a lint problem: this check proves nothing"
  fi
fi

# ---- 2. alert rules ---------------------------------------------------------
if out=$(promtool check rules "$deploy/alerts.yml" 2>&1); then
  pass "promtool check rules deploy/alerts.yml"
else
  fail "promtool check rules:"; echo "$out"
fi

cat > "$tmp/alerts_test.yml" <<YAML
rule_files:
  - $deploy/alerts.yml
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'up{job="voxclone",instance="a"}'
        values: '1x60'
      - series: 'voxclone_similarity_overall_sum{job="voxclone",instance="a"}'
        values: '0+0.6x60'
      - series: 'voxclone_similarity_overall_count{job="voxclone",instance="a"}'
        values: '0+1x60'
      - series: 'voxclone_clones_total{job="voxclone",instance="a",language="de"}'
        values: '0+10x60'
      - series: 'voxclone_clone_failures_total{job="voxclone",instance="a",language="de",reason="tts"}'
        values: '0+2x60'
      - series: 'voxclone_clones_total{job="voxclone",instance="a",language="en"}'
        values: '0+10x60'
      - series: 'voxclone_clone_failures_total{job="voxclone",instance="a",language="en",reason="tts"}'
        values: '0+0.5x60'
      - series: 'voxclone_clones_total{job="voxclone",instance="a",language="ja"}'
        values: '0+0.1x60'
      - series: 'voxclone_clone_failures_total{job="voxclone",instance="a",language="ja",reason="tts"}'
        values: '0+0.1x60'
      - series: 'voxclone_http_requests_total{job="voxclone",instance="a",route="/x",method="GET",code="200"}'
        values: '0+90x60'
      - series: 'voxclone_http_requests_total{job="voxclone",instance="a",route="/x",method="GET",code="503"}'
        values: '0+10x60'
      - series: 'voxclone_cache_up{job="voxclone",instance="a"}'
        values: '0x60'
      - series: 'voxclone_store_up{job="voxclone",instance="a"}'
        values: '0x60'
      - series: 'voxclone_jobs_queue_depth{job="voxclone",instance="a"}'
        values: '60x60'
    alert_rule_test:
      - eval_time: 30m
        alertname: VoxcloneDown
        exp_alerts: []
      - eval_time: 10m
        alertname: VoxcloneSimilarityLow
        exp_alerts: []
      - eval_time: 30m
        alertname: VoxcloneSimilarityLow
        exp_alerts:
          - exp_labels: {severity: warning}
            exp_annotations:
              summary: "Mean clone similarity is 0.600 (< 0.7)"
              description: "The mean overall similarity (0.3 pitch + 0.3 brightness + 0.4 MFCC) over the last 15 minutes has stayed below the 0.7 quality threshold for 15 minutes. Check the per-language clone failures and recent engine or converter changes."
      # de: 20 % -> fires; en: 5 % -> quiet; ja: 100 % but 1 attempt -> quiet
      - eval_time: 30m
        alertname: VoxcloneCloneFailureRateHigh
        exp_alerts:
          - exp_labels: {severity: warning, language: de}
            exp_annotations:
              summary: "Clone failure rate for language de is 20%"
              description: "More than 10 % of the clones in de failed over the last 10 minutes (for 5 minutes). See voxclone_clone_failures_total{language=\"de\"} by reason."
      - eval_time: 30m
        alertname: VoxcloneHttp5xxRateHigh
        exp_alerts:
          - exp_labels: {severity: critical}
            exp_annotations:
              summary: "10% of HTTP requests fail with 5xx"
              description: "More than 5 % of voxclone HTTP responses over the last 5 minutes were server errors (for 5 minutes). Check voxclone_store_up, voxclone_cache_up and the service journal (journalctl -u voxclone)."
      - eval_time: 30m
        alertname: VoxcloneCacheDown
        exp_alerts:
          - exp_labels: {severity: warning, job: voxclone, instance: a}
            exp_annotations:
              summary: "voxclone cache back-end on a is down"
              description: "The analysis cache (Redis when configured) has been unreachable for 5 minutes. The service keeps working without it, but every analysis is recomputed; voxclone_cache_errors_total is rising."
      - eval_time: 30m
        alertname: VoxcloneStoreDown
        exp_alerts:
          - exp_labels: {severity: critical, job: voxclone, instance: a}
            exp_annotations:
              summary: "voxclone database on a is down"
              description: "The store (SQLite or PostgreSQL) has not answered for 2 minutes; profile, settings and job requests answer 503. See voxclone_store_errors_total by op."
      - eval_time: 30m
        alertname: VoxcloneQueueDepthHigh
        exp_alerts:
          - exp_labels: {severity: warning, job: voxclone, instance: a}
            exp_annotations:
              summary: "60 voxclone jobs are waiting"
              description: "More than 48 jobs (75 % of the default queue limit of 64) have been waiting for 10 minutes; new jobs will soon be refused with 429. Add job workers or instances."
  # a healthy, quiet service: nothing fires
  - interval: 1m
    input_series:
      - series: 'up{job="voxclone",instance="a"}'
        values: '1x60'
      - series: 'voxclone_similarity_overall_sum{job="voxclone",instance="a"}'
        values: '0+0.85x60'
      - series: 'voxclone_similarity_overall_count{job="voxclone",instance="a"}'
        values: '0+1x60'
      - series: 'voxclone_http_requests_total{job="voxclone",instance="a",route="/x",method="GET",code="200"}'
        values: '0x60'
      - series: 'voxclone_cache_up{job="voxclone",instance="a"}'
        values: '1x60'
      - series: 'voxclone_store_up{job="voxclone",instance="a"}'
        values: '1x60'
      - series: 'voxclone_jobs_queue_depth{job="voxclone",instance="a"}'
        values: '3x60'
    alert_rule_test:
$(for a in VoxcloneDown VoxcloneSimilarityLow VoxcloneCloneFailureRateHigh VoxcloneHttp5xxRateHigh \
           VoxcloneCacheDown VoxcloneStoreDown VoxcloneQueueDepthHigh VoxcloneNoWorkers; do
    printf '      - eval_time: 45m\n        alertname: %s\n        exp_alerts: []\n' "$a"; done)
  # scrape failures page
  - interval: 1m
    input_series:
      - series: 'up{job="voxclone",instance="a"}'
        values: '0x10'
    alert_rule_test:
      - eval_time: 5m
        alertname: VoxcloneDown
        exp_alerts:
          - exp_labels: {severity: critical, job: voxclone, instance: a}
            exp_annotations:
              summary: "voxclone on a is not answering /metrics"
              description: "Prometheus has failed to scrape a for 2 minutes; every other voxclone alert is blind while this fires."
  # gateways without workers: g1 has none for 10 min (fires after 2m), g2 had
  # none for 1 min only, g3 has 2; a 'serve --local' instance (no role label)
  # exports 0 too and must stay quiet
  - interval: 1m
    input_series:
      - series: 'voxclone_workers_connected{job="voxclone",instance="g1",role="gateway"}'
        values: '2 2 0x10'
      - series: 'voxclone_workers_connected{job="voxclone",instance="g2",role="gateway"}'
        values: '2 2 0 2x10'
      - series: 'voxclone_workers_connected{job="voxclone",instance="g3",role="gateway"}'
        values: '2x12'
      - series: 'voxclone_workers_connected{job="voxclone",instance="s"}'
        values: '0x12'
    alert_rule_test:
      - eval_time: 3m
        alertname: VoxcloneNoWorkers
        exp_alerts: []
      - eval_time: 6m
        alertname: VoxcloneNoWorkers
        exp_alerts:
          - exp_labels: {severity: critical, job: voxclone, instance: g1, role: gateway}
            exp_annotations:
              summary: "voxclone gateway g1 has no worker connected"
              description: "No voxclone worker has been registered with the gateway for 2 minutes: voice uploads, tts and message jobs answer 503 with Retry-After. Check the workers (systemctl status 'voxclone-worker@*', journalctl -u 'voxclone-worker@*') and that they reach the gateway's --bind endpoint (VOXCLONE_CONNECT)."
YAML
if out=$(promtool test rules "$tmp/alerts_test.yml" 2>&1); then
  pass "promtool test rules (alert behaviour on synthetic series)"
else
  fail "promtool test rules:"; echo "$out"
fi

# ---- 3. Prometheus configuration -------------------------------------------
if out=$(cd / && promtool check config "$deploy/prometheus.yml" 2>&1) &&
   echo "$out" | grep -q 'SUCCESS: 1 rule files found'; then
  pass "promtool check config deploy/prometheus.yml (rule file found relative to it)"
else
  fail "promtool check config:"; echo "$out"
fi
# without alerts.yml beside it the config must be refused (the path is relative)
cp "$deploy/prometheus.yml" "$tmp/prometheus.yml"
if promtool check config "$tmp/prometheus.yml" >/dev/null 2>&1; then
  fail "promtool check config accepts prometheus.yml without alerts.yml beside it"
fi

# ---- 4. Grafana dashboard ---------------------------------------------------
if command -v python3 >/dev/null 2>&1; then
  if out=$(python3 - "$deploy/grafana-dashboard.json" "$tmp/dash_rules.yml" 2>&1 <<'PY'
import json, re, sys
families = {
    "voxclone_http_requests_total", "voxclone_http_request_duration_seconds",
    "voxclone_analysis_duration_seconds", "voxclone_clone_duration_seconds",
    "voxclone_similarity_overall", "voxclone_clone_failures_total", "voxclone_clones_total",
    "voxclone_cache_hits_total", "voxclone_cache_misses_total", "voxclone_cache_errors_total",
    "voxclone_cache_up", "voxclone_jobs_queue_depth", "voxclone_jobs_running",
    "voxclone_jobs_total", "voxclone_store_errors_total", "voxclone_store_up",
    "voxclone_build_info",
    # gateway / worker scale-out (broker statistics, src/net/routes_voice.c)
    "voxclone_workers_connected", "voxclone_worker_capacity", "voxclone_tasks_in_flight",
    "voxclone_tasks_queue_depth", "voxclone_tasks_requeued_total", "voxclone_workers_lost_total",
    "voxclone_task_duplicates_total", "voxclone_frames_dropped_total",
    "voxclone_dispatch_latency_mean_seconds", "voxclone_dispatch_latency_max_seconds",
    "voxclone_worker_in_flight", "voxclone_worker_completed", "voxclone_worker_requeued"}
d = json.load(open(sys.argv[1]))
assert d.get("schemaVersion", 0) >= 36, "schemaVersion too old"
names = [v["name"] for v in d["templating"]["list"]]
assert "datasource" in names, "no datasource variable"
exprs = []
def walk(panels):
    for p in panels:
        walk(p.get("panels", []))
        for t in p.get("targets", []):
            exprs.append((p["title"], t["expr"]))
            assert t["datasource"]["uid"] == "${datasource}", p["title"]
walk(d["panels"])
assert len(exprs) >= 10, "too few queries"
with open(sys.argv[2], "w") as f:
    f.write("groups:\n  - name: dashboard\n    rules:\n")
    for i, (title, e) in enumerate(exprs):
        for m in re.findall(r"voxclone_[a-z_]+", e):
            base = re.sub(r"_(bucket|sum|count)$", "", m)
            assert m in families or base in families, f"{title}: unknown metric {m}"
        e = (e.replace("$__rate_interval", "5m").replace("$__range", "1h")
              .replace("$instance", ".*"))
        f.write(f"      - record: dashboard:q{i}\n        expr: {json.dumps(e)}\n")
print(f"{len(exprs)} queries")
PY
  ); then
    if out2=$(promtool check rules "$tmp/dash_rules.yml" 2>&1); then
      pass "grafana-dashboard.json: $out parse as PromQL and use exported families"
    else
      fail "dashboard PromQL:"; echo "$out2"
    fi
  else
    fail "grafana-dashboard.json:"; echo "$out"
  fi
else
  echo "skip: python3 not found, dashboard queries not checked"
fi

# ---- 5. systemd units ---------------------------------------------------------
# voxclone.service (serve), voxclone-gateway.service, voxclone-worker@.service
# (a template: verified as instance @1, which loads the template beside it)
if command -v systemd-analyze >/dev/null 2>&1; then
  # does verify work here at all?  (a trivial unit must pass silently)
  mkdir -p "$tmp/probe" "$tmp/units"
  printf '[Unit]\nDescription=probe\n[Service]\nExecStart=/bin/true\n' > "$tmp/probe/vxprobe.service"
  if probe=$(systemd-analyze verify "$tmp/probe/vxprobe.service" 2>&1) && [ -z "$probe" ]; then
    if [ ! -x "$bin_dir/voxclone" ]; then
      fail "$bin_dir/voxclone not built (needed by systemd-analyze verify)"
    else
      for unit in voxclone.service voxclone-gateway.service voxclone-worker@.service; do
        if [ ! -f "$deploy/$unit" ]; then
          fail "deploy/$unit is missing"; continue
        fi
        # the binary must exist for verify: point ExecStart at the one just built
        sed "s#/usr/local/bin/voxclone#$bin_dir/voxclone#" "$deploy/$unit" > "$tmp/units/$unit"
        target=$unit
        case "$unit" in *@.service) target=${unit%@.service}@1.service ;; esac
        if out=$(cd "$tmp/units" && systemd-analyze verify "$tmp/units/$target" 2>&1) &&
           [ -z "$out" ]; then
          [ "$target" = "$unit" ] && as= || as=" (as $target)"
          pass "systemd-analyze verify deploy/$unit$as"
        else
          # verify exits 0 on unknown keys and bad values: any message is a failure
          fail "systemd-analyze verify deploy/$unit:"; echo "$out"
        fi
      done
      # the check must be able to fail: an unknown key in the template is reported
      sed 's/^\[Service\]/[Service]\nBogusKey=1/' "$tmp/units/voxclone-worker@.service" \
        > "$tmp/probe/vxbad@.service"
      if out=$(systemd-analyze verify "$tmp/probe/vxbad@1.service" 2>&1) && [ -z "$out" ]; then
        fail "systemd-analyze verify of a template instance ignores the template: this check proves nothing"
      fi
    fi
  else
    echo "skip: systemd-analyze verify does not work here ($probe)"
  fi
else
  echo "skip: systemd-analyze not found, the units are not verified"
fi

# ---- 6. environment file ------------------------------------------------------
# every ${VAR} / VOXCLONE_* the new units need is in voxclone.env.example, and the
# example is plain KEY=value lines (what EnvironmentFile= reads)
if [ -f "$deploy/voxclone.env.example" ]; then
  need=$(grep -ho 'VOXCLONE_[A-Z_]*' "$deploy/voxclone-gateway.service" \
         "$deploy/voxclone-worker@.service" | sort -u)
  have=$(grep -o '^VOXCLONE_[A-Z_]*=' "$deploy/voxclone.env.example" | tr -d = | sort -u)
  missing=$(comm -23 <(echo "$need") <(echo "$have"))
  badlines=$(grep -vnE '^(#.*|[A-Z_][A-Z0-9_]*=[^ ].*|)$' "$deploy/voxclone.env.example" || true)
  if [ -z "$missing" ] && [ -z "$badlines" ]; then
    pass "deploy/voxclone.env.example sets $(echo "$have" | wc -l) variables, all the units use"
  else
    fail "deploy/voxclone.env.example: missing [$missing], bad lines [$badlines]"
  fi
else
  fail "deploy/voxclone.env.example is missing"
fi

if [ "$fails" -ne 0 ]; then
  echo "test_promtool: $fails failure(s)"
  exit 1
fi
echo "test_promtool: all ok"
