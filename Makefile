# hearth — top-level build.
#
#   make              build every binary into build/
#   make test         install missing packages, build, run every test
#   make run          install missing packages, build, start a single node
#   make run CLUSTER=1  the same with 3 agents, 2 schedulers, 2 controllers
#   make SANITIZE=1 … the same with AddressSanitizer + UndefinedBehaviorSanitizer
#   make fuzz         build libFuzzer targets with clang into build/fuzz/
#   make install      PREFIX=/usr/local DESTDIR= install the binaries (and the
#                     openwhisk npm module nodejs actions get, in lib/hearth)
#   make npm          fetch that module into build/node_modules (test and run do)
#   make format|lint  clang-format / clang-tidy over the tree
#   make check-format fail if a file is not formatted as `make format` would
#
# Objects land in build/obj; header dependencies are tracked with -MMD, and
# build/.flags records the compiler flags so that changing them (SANITIZE=1)
# rebuilds everything instead of mixing objects.

PREFIX  ?= /usr/local
DESTDIR ?=
B       := build
CC      ?= cc
PKGS    := libevent libevent_pthreads libcurl hiredis libcjson

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null)

WARN    := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wstrict-prototypes \
           -Wmissing-prototypes -Wno-unused-parameter -Wvla -Wpointer-arith
CFLAGS  ?= -O2 -g
CFLAGS  += -std=c11 -D_GNU_SOURCE -I. $(WARN) $(PKG_CFLAGS) -fno-strict-aliasing \
           -fstack-protector-strong
LDFLAGS ?=
LDLIBS  := $(PKG_LIBS) -lpthread -lm
ifeq ($(SANITIZE),1)
CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif

# Every .c in a daemon folder except main.c goes into that daemon's library,
# so unit tests can link the logic without the main().
COMMON_SRC := $(wildcard common/*.c) $(wildcard proto/*.c)
DAEMONS    := controller scheduler agent runtime cli
lib_src     = $(filter-out $(1)/main.c,$(wildcard $(1)/*.c))
obj         = $(patsubst %.c,$(B)/obj/%.o,$(1))

COMMON_LIB := $(B)/lib/libhc.a
bin_name    = $(if $(filter cli,$(1)),hearth,hearth-$(1))
# A daemon is built once its main.c exists.
BINS := $(foreach d,$(DAEMONS),$(if $(wildcard $(d)/main.c),$(B)/$(call bin_name,$(d))))

UNIT_SRC   := $(wildcard tests/unit/test_*.c)
UNIT_BINS  := $(patsubst tests/unit/%.c,$(B)/tests/%,$(UNIT_SRC))
IT_SRC     := $(wildcard tests/integration/it_*.c)
IT_BINS    := $(patsubst tests/integration/%.c,$(B)/tests/%,$(IT_SRC))
HARNESS_OBJ := $(call obj,$(wildcard tests/lib/*.c))
# The waiting helpers are the part of tests/lib that unit tests use too.
WAIT_OBJ   := $(call obj,tests/lib/wait.c)
FUZZ_SRC   := $(wildcard tests/fuzz/fuzz_*.c)
REPLAY_BINS := $(patsubst tests/fuzz/%.c,$(B)/tests/replay_%,$(FUZZ_SRC))
BENCH_SRC  := $(wildcard bench/*.c)
BENCH_BINS := $(patsubst bench/%.c,$(B)/bench/%,$(BENCH_SRC))

# Daemon libraries name their sources through a second expansion.
.SECONDEXPANSION:

.PHONY: all deps npm test unit integration replay e2e run bench fuzz install clean format lint lint-files check-format
all: $(BINS) $(UNIT_BINS) $(IT_BINS) $(REPLAY_BINS) $(BENCH_BINS) $(B)/compile_commands.json

# Rebuild everything when the flags change.
FLAGS_LINE := $(CC) $(CFLAGS) $(LDFLAGS)
$(B)/.flags: FORCE
	@mkdir -p $(B)
	@echo '$(FLAGS_LINE)' | cmp -s - $@ || echo '$(FLAGS_LINE)' > $@
FORCE:

$(B)/obj/%.o: %.c $(B)/.flags
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(COMMON_LIB): $(call obj,$(COMMON_SRC))
	@mkdir -p $(dir $@)
	@rm -f $@
	ar rcs $@ $^

# Files in runtime/launchers/ are compiled into the runtime as C arrays:
# runtime/launchers/node.js -> rt_embed_node_js[] and rt_embed_node_js_len.
EMBED_SRC := $(wildcard runtime/launchers/*)
EMBED_OBJ := $(patsubst runtime/launchers/%,$(B)/obj/gen/embed_%.o,$(EMBED_SRC))
$(B)/obj/gen/embed_%.o: runtime/launchers/% deploy/embed.sh $(B)/.flags
	@mkdir -p $(B)/gen $(dir $@)
	deploy/embed.sh $< rt_embed_$(subst .,_,$(subst -,_,$*)) > $(B)/gen/embed_$*.c
	$(CC) $(CFLAGS) -c $(B)/gen/embed_$*.c -o $@

$(B)/lib/lib%.a: $$(call obj,$$(call lib_src,%)) $$(if $$(filter runtime,$$*),$(EMBED_OBJ)) $(B)/obj/empty.o
	@mkdir -p $(dir $@)
	@rm -f $@
	ar rcs $@ $^
# A daemon links its main, its own library and the common library.
define daemon_rule
$(B)/$(2): $(B)/obj/$(1)/main.o $(B)/lib/lib$(1).a $(COMMON_LIB)
	$$(CC) $$(LDFLAGS) -o $$@ $$^ $$(LDLIBS)
endef
$(eval $(call daemon_rule,controller,hearth-controller))
$(eval $(call daemon_rule,scheduler,hearth-scheduler))
$(eval $(call daemon_rule,agent,hearth-agent))
$(eval $(call daemon_rule,runtime,hearth-runtime))
$(eval $(call daemon_rule,cli,hearth))

DAEMON_LIBS := $(foreach d,$(DAEMONS),$(B)/lib/lib$(d).a)
$(B)/obj/empty.o: $(B)/.flags
	@mkdir -p $(dir $@)
	echo 'typedef int hc_empty_unit;' | $(CC) $(CFLAGS) -x c -c - -o $@
$(DAEMON_LIBS): $(B)/obj/empty.o

# Unit tests link every library, so any module can be tested, and the
# waiting helpers (not the harness: unit tests start no processes).
$(B)/tests/test_%: $(B)/obj/tests/unit/test_%.o $(WAIT_OBJ) $(DAEMON_LIBS) $(COMMON_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(WAIT_OBJ) $(DAEMON_LIBS) $(COMMON_LIB) $(LDLIBS) $(CMOCKA_LIBS)

# Integration tests also link the harness that starts real processes.
$(B)/tests/it_%: $(B)/obj/tests/integration/it_%.o $(HARNESS_OBJ) $(DAEMON_LIBS) $(COMMON_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(HARNESS_OBJ) $(DAEMON_LIBS) $(COMMON_LIB) $(LDLIBS) $(CMOCKA_LIBS)

# Benchmark helpers (load generators, trivial servers) link like tests.
$(B)/bench/%: $(B)/obj/bench/%.o $(DAEMON_LIBS) $(COMMON_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(DAEMON_LIBS) $(COMMON_LIB) $(LDLIBS)

# Fuzz targets built without libFuzzer: a main() that replays the corpus.
$(B)/tests/replay_%: $(B)/obj/tests/fuzz/%.o $(B)/obj/tests/fuzz/replay_main.o $(DAEMON_LIBS) $(COMMON_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(B)/obj/tests/fuzz/replay_main.o $(DAEMON_LIBS) $(COMMON_LIB) $(LDLIBS)
$(B)/obj/tests/fuzz/replay_main.o: tests/fuzz/replay_main.c $(B)/.flags
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

# Every C file the build compiles; rewritten only when the list or the
# flags change, so editors and `make lint` always see new files.
CC_DB_SRC := $(COMMON_SRC) $(foreach d,$(DAEMONS),$(wildcard $(d)/*.c)) $(wildcard tests/lib/*.c) \
             $(UNIT_SRC) $(IT_SRC) $(FUZZ_SRC) tests/fuzz/replay_main.c $(BENCH_SRC)
$(B)/compile_commands.json: FORCE
	@mkdir -p $(B)
	@deploy/compile-commands.sh '$(CC) $(CFLAGS)' $(CC_DB_SRC) > $@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@

deps:
	@deploy/deps.sh

# The openwhisk npm client, which OpenWhisk's nodejs images ship: nodejs
# actions require('openwhisk'). hearth-runtime puts the node_modules beside
# it on NODE_PATH (in a runc container that directory is /hearth). Fetched
# from the npm registry once by `make npm` (and so by test, run, bench,
# install); a plain `make` never needs the network.
NPM_OPENWHISK := openwhisk@3.21.9
NPM_STAMP     := $(B)/node_modules/openwhisk/package.json
$(NPM_STAMP):
	@mkdir -p $(B)
	npm install --prefix $(B) --no-audit --no-fund --no-save --no-package-lock \
	  --loglevel=error $(NPM_OPENWHISK)
npm: deps $(NPM_STAMP)

test: deps npm
	@$(MAKE) --no-print-directory -j$$(nproc) all
	@tests/run.sh $(B)

unit: all
	@tests/run.sh $(B) unit
integration: all
	@tests/run.sh $(B) integration
replay: all
	@tests/run.sh $(B) replay
e2e: all
	@tests/run.sh $(B) e2e

# CLUSTER=1: 3 agents (127.0.0.2-4), 2 schedulers, 2 controllers behind nginx.
run: deps npm
	@$(MAKE) --no-print-directory -j$$(nproc) all
	@$(if $(CLUSTER),HEARTH_CLUSTER=1) deploy/hearth-node.sh

bench: deps npm
	@deploy/deps.sh bench
	@$(MAKE) --no-print-directory -j$$(nproc) all
	@HEARTH_BUILD=$(B) bench/run.sh $(if $(QUICK),--quick,)

# libFuzzer builds need clang; they are separate from the normal build.
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -I. -g -O1 $(PKG_CFLAGS) -fsanitize=fuzzer,address,undefined
fuzz:
	@deploy/deps.sh fuzz
	@mkdir -p $(B)/fuzz
	@for f in $(FUZZ_SRC); do n=$$(basename $$f .c); \
	  echo "clang $$n"; \
	  clang $(FUZZ_CFLAGS) -o $(B)/fuzz/$$n $$f $(COMMON_SRC) $(foreach d,$(filter-out cli,$(DAEMONS)),$(call lib_src,$(d))) $(LDLIBS) || exit 1; \
	done
	@echo "run e.g.: $(B)/fuzz/fuzz_http_parse -max_total_time=60 tests/fuzz/corpus/http_parse"

install: all $(NPM_STAMP)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/hearth
	install -m 0755 $(BINS) $(DESTDIR)$(PREFIX)/bin/
	cp -R $(B)/node_modules $(DESTDIR)$(PREFIX)/lib/hearth/

clean:
	rm -rf $(B)

# Every C source and header of the tree, tests and benchmarks included.
SRC_ALL = $(CC_DB_SRC) $(wildcard $(addsuffix /*.h,$(DAEMONS)) common/*.h proto/*.h tests/lib/*.h)
format:
	@deploy/deps.sh lint
	clang-format -i $(SRC_ALL)
# Fails when any file differs from what `make format` would make of it.
check-format:
	@deploy/deps.sh lint
	@clang-format --dry-run -Werror $(SRC_ALL)

# clang-tidy with .clang-tidy's checks over every file the build compiles,
# in parallel; a file is checked again only once it, a header it includes
# or .clang-tidy changed (its .d is written as the compiler would). Any
# finding fails. Unit and integration tests are read with
# tests/lib/lint_cmocka.h, which tells the analyzer that a failed cmocka
# check does not return.
LINT_STAMPS := $(patsubst %.c,$(B)/lint/%.ok,$(CC_DB_SRC))
LINT_CMOCKA  = $(if $(filter tests/unit/% tests/integration/%,$<),-include tests/lib/lint_cmocka.h)
lint:
	@deploy/deps.sh lint
	@$(MAKE) --no-print-directory -k -j$$(nproc) lint-files
lint-files: $(LINT_STAMPS)
$(B)/lint/%.ok: %.c .clang-tidy $(B)/compile_commands.json
	@mkdir -p $(dir $@)
	@echo "clang-tidy $<"
	@if clang-tidy -p $(B) --quiet $(addprefix --extra-arg=,$(LINT_CMOCKA)) $< >$(@:.ok=.log) 2>&1; \
	then $(CC) $(CFLAGS) $(LINT_CMOCKA) -MM -MP -MT $@ $< >$(@:.ok=.d) && touch $@; \
	else grep -v ' generated\.$$' $(@:.ok=.log); exit 1; fi

-include $(shell find $(B)/obj $(B)/lint -name '*.d' 2>/dev/null)
