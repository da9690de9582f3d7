# Top-level driver for CMake + ctest.
#   make        build everything (CLI at build/voxclone)
#   make run    install deps, build, run the CLI demo (see README)
#   make test   install deps, build with -Werror, run ctest; then ASan+UBSan build + ctest;
#               then the libFuzzer targets built with clang, each run for a bounded time
#   make bench  run the benchmarks (bench/)
BUILD ?= build
JOBS ?= $(shell nproc)

.PHONY: all deps run test test-release test-asan test-fuzz bench clean fuzz

all:
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

deps:
	@bash scripts/install-deps.sh

run: deps all
	@bash scripts/run.sh $(BUILD)/voxclone

test: deps test-release test-asan test-fuzz

test-release:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release -DVX_WERROR=ON >/dev/null
	cmake --build $(BUILD) -j $(JOBS)
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

test-asan:
	cmake -S . -B $(BUILD)-asan -DCMAKE_BUILD_TYPE=Debug -DVX_SANITIZE=ON -DVX_WERROR=ON >/dev/null
	cmake --build $(BUILD)-asan -j $(JOBS)
	cd $(BUILD)-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j $(JOBS)

bench: all
	@bash bench/run.sh $(BUILD)

FUZZ_CONFIGURE = CC=clang cmake -S . -B $(BUILD)-fuzz -DVX_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null

fuzz:
	$(FUZZ_CONFIGURE)
	cmake --build $(BUILD)-fuzz -j $(JOBS)

# Builds the fuzz targets with clang (the only clang build: it also keeps the
# code portable to clang) and runs each for FUZZ_SECONDS on a scratch copy
# of its committed corpus; a crash fails the target.
FUZZ_SECONDS ?= 20
test-fuzz:
	$(FUZZ_CONFIGURE)
	cmake --build $(BUILD)-fuzz -j $(JOBS) --target fuzz_decode fuzz_protocol
	@set -e; for t in decode protocol; do \
	  tmp=$$(mktemp -d); \
	  echo "fuzz_$$t: $(FUZZ_SECONDS) s from tests/fuzz/corpus/$$t"; \
	  ./$(BUILD)-fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 \
	    -print_final_stats=1 $$tmp tests/fuzz/corpus/$$t 2>$$tmp.log || { tail -40 $$tmp.log; exit 1; }; \
	  grep -E "stat::number_of_executed_units|stat::peak_rss_mb" $$tmp.log | sed "s/^/  fuzz_$$t /"; \
	  echo "  fuzz_$$t: no crash"; \
	  rm -rf $$tmp $$tmp.log; \
	done

clean:
	rm -rf $(BUILD) $(BUILD)-asan $(BUILD)-fuzz
