# Tessera: `make run` and `make test` are the two commands a newcomer needs.
# Both install missing Debian packages (cheap when nothing is missing), configure and build.
BUILD_DIR ?= build
BUILD_TYPE ?= Release
JOBS ?= $(shell nproc)
DATASETS ?= $(abspath ../shared/datasets)
CMAKE_ARGS ?=
# Lets ccache reuse objects across checkouts in different directories (CI clones afresh).
export CCACHE_BASEDIR := $(CURDIR)

.PHONY: all deps configure build test test-sanitize soak run bench bench-engine bench-http clean

all: build

deps:
	@bash scripts/install-deps.sh

# Test sources are built at -O1 (the code they test keeps the build type's -O3): they are
# slow to compile and quick to run, and a cold build is much of CI's time.
$(BUILD_DIR)/build.ninja: | deps
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) \
	  -DTESSERA_TEST_COMPILE_OPTIONS=-O1 $(CMAKE_ARGS)

configure: $(BUILD_DIR)/build.ninja

build: deps configure
	cmake --build $(BUILD_DIR) -j $(JOBS)

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) --timeout 900

# Long fault runs, not part of CI (about 5 minutes): 60 rounds of power cuts under load
# with compaction and GC, then the kill -9 and power-cut crash-site runs three times each.
soak: build
	cd $(BUILD_DIR) && TESSERA_TEST_ROUNDS=60 ctest --output-on-failure --timeout 1800 \
	  -R 'PowerCutTest.AcknowledgedWritesSurviveAPowerCutUnderLoad'
	cd $(BUILD_DIR) && ctest --output-on-failure --timeout 900 --repeat until-fail:3 -R 'CrashPointsTest'

# The unit tests again under AddressSanitizer + UndefinedBehaviorSanitizer (CI runs this too).
# Warnings are not errors here: GCC 12 reports false -Wmaybe-uninitialized inside the
# standard library under sanitizer instrumentation; `make test` enforces -Werror.
# Compile time rules this build (a cold one is most of CI): the code under test is built at
# -O1 with line tables only (-g1: stack traces keep file:line), the test sources at -O0;
# at -O2 -g a cold build took about 3x as long. The fuzzers are skipped (`make test` runs them).
SANITIZE_DIR ?= build-sanitize
test-sanitize: deps
	cmake -S . -B $(SANITIZE_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO='-O1 -g1 -DNDEBUG' -DTESSERA_TEST_COMPILE_OPTIONS=-O0 \
	  -DTESSERA_SANITIZE='address;undefined' -DTESSERA_WERROR=OFF -DTESSERA_BUILD_BENCHMARKS=OFF $(CMAKE_ARGS)
	cmake --build $(SANITIZE_DIR) -j $(JOBS)
	cd $(SANITIZE_DIR) && UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp \
	  ctest --output-on-failure -j $(JOBS) -L unit --timeout 900

# Builds and starts `tessera standalone` with the defaults: REST API on port 19530, all
# state under ./data. Stop it with Ctrl-C (SIGINT: a clean shutdown).
run: build
	$(BUILD_DIR)/src/cli/tessera standalone

# The engine benchmark on sift5k (what `make run` did before the server existed).
bench-engine: build
	$(BUILD_DIR)/bench/tessera-bench --dataset $(DATASETS)/sift5k-128-euclidean \
	  --index FLAT,HNSW,HNSW_SQ8,IVF_FLAT --engines tessera,hnswlib,faiss --nlist 64 --filters 0.1

# The benchmark on mnist-784 (first 1000 queries); writes bench/results/mnist.json and
# prints the summary that bench/RESULTS.md quotes.
bench: build
	mkdir -p bench/results
	$(BUILD_DIR)/bench/tessera-bench --dataset $(DATASETS)/mnist-784-euclidean \
	  --index FLAT,HNSW,HNSW_SQ8,IVF_FLAT --engines tessera,hnswlib,faiss --filters 0.5,0.1,0.01 \
	  --queries 1000 --json bench/results/mnist.json
	python3 bench/summarize.py bench/results/mnist.json

# The REST path (bench/README.md, "HTTP benchmark"): starts `tessera standalone`, inserts
# mnist-784 over HTTP, waits until it is indexed, compacted and loaded, then searches with
# 1, 8 and 32 clients next to the same HNSW index in-process; writes bench/results/http.json.
# With 2+ CPUs the searches run with the server (and the in-process runs) on half of them
# and the HTTP clients on the other half, in an event loop that never sleeps (so the
# server pays no wake-up per answer, as with clients on another machine).
bench-http: deps configure
	cmake --build $(BUILD_DIR) -j $(JOBS) --target tessera
	mkdir -p bench/results
	$(BUILD_DIR)/src/cli/tessera bench --spawn $(BUILD_DIR)/src/cli/tessera \
	  --dataset $(DATASETS)/mnist-784-euclidean --queries 1000 --rounds 3 --json bench/results/http.json \
	  $$(test "$$(nproc)" -ge 2 && echo --split-cpus --client-spin)

clean:
	rm -rf $(BUILD_DIR)
