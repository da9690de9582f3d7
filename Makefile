# Top-level driver for CMake + ctest.
#   make        build everything (CLI at build/voxclone)
#   make run    install deps, build, run the CLI demo (see README)
#   make test   install deps, build with -Werror, run ctest; then ASan+UBSan build + ctest
#   make bench  run the benchmarks (bench/)
BUILD ?= build
JOBS ?= $(shell nproc)

.PHONY: all deps run test test-release test-asan bench clean fuzz

all:
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

deps:
	@bash scripts/install-deps.sh

run: deps all
	@bash scripts/run.sh $(BUILD)/voxclone

test: deps test-release test-asan

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

fuzz:
	CC=clang cmake -S . -B $(BUILD)-fuzz -DVX_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build $(BUILD)-fuzz -j $(JOBS)

clean:
	rm -rf $(BUILD) $(BUILD)-asan $(BUILD)-fuzz
