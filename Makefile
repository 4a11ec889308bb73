# natsctl build. `make help` lists the targets.
#
# Variables: SANITIZE=address,undefined builds into build-san/ with sanitizers; V=1 shows commands;
# WERROR=0 drops -Werror (for packagers on newer compilers); SERVER=nats-server runs the interop
# suite against the Debian nats-server instead of natsctl; STATIC=0 links natsctl dynamically
# against glibc instead of statically against musl.

SHELL := /bin/bash
CC ?= cc
# natsctl's own version, for every binary and library (`natsctl --version`, CONNECT, INFO "go").
VERSION := 0.1.0
V ?= 0
WERROR ?= 1
SANITIZE ?=
SERVER ?= natsctl

ifeq ($(SANITIZE),)
BUILD ?= build
OPT ?= -O2 -g
STATIC ?= 1
else
BUILD ?= build-san
OPT ?= -O1 -g -fno-omit-frame-pointer -fsanitize=$(SANITIZE) -fno-sanitize-recover=all
STATIC := 0
endif

PKGS := libuv libcjson libedit libssl libcrypto
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# tgetent() (the shell's check of TERM) comes from the terminal library libedit uses.
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null) $(shell pkg-config --libs tinfo 2>/dev/null)
# bcrypt for passwords comes from the system's crypt_r (libxcrypt on Debian's glibc).
CRYPT_LIBS := -lcrypt
CJSON_CFLAGS = $(shell pkg-config --cflags libcjson 2>/dev/null)
UV_CFLAGS = $(shell pkg-config --cflags libuv libcjson 2>/dev/null)

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wold-style-definition \
	-Wpointer-arith -Wformat=2 -Wwrite-strings -Wvla -Wundef -Wimplicit-fallthrough
ifeq ($(WERROR),1)
WARN += -Werror
endif
STRICT := -Wconversion -Wsign-conversion

# Each layer sees only the headers it may use, so a wrong-way include fails to compile: the core of
# libproto (no I/O) sees itself and cJSON; its client connection adds libuv; libbroker adds
# itself; cmd and the tests see everything.
INC_PROTO := -Ilibproto
INC_CLIENT := -Ilibproto -Ilibproto/client
INC_BROKER := -Ilibproto -Ilibbroker
INC_ALL := -Ilibproto -Ilibproto/client -Ilibbroker -Icmd

# OpenSSL's 3.0 API only: the static build configures the deprecated functions out.
CFLAGS_BASE := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -MMD -MP $(OPT) \
	-DNATSCTL_VERSION='"$(VERSION)"' -DOPENSSL_API_COMPAT=30000 -DOPENSSL_NO_DEPRECATED
CFLAGS_ALL = $(CFLAGS_BASE) $(INC_ALL) $(WARN) $(PKG_CFLAGS) $(CFLAGS)
CFLAGS_PROTO = $(CFLAGS_BASE) $(INC_PROTO) $(WARN) $(STRICT) $(CJSON_CFLAGS) $(CFLAGS)
CFLAGS_CLIENT = $(CFLAGS_BASE) $(INC_CLIENT) $(WARN) $(STRICT) $(UV_CFLAGS) $(CFLAGS)
CFLAGS_BROKER = $(CFLAGS_BASE) $(INC_BROKER) $(WARN) $(UV_CFLAGS) $(CFLAGS)

# The string-operation tuning of the static build (see below) exists only on x86-64: for the
# compiler $(1), these flags or nothing.
stringops_for = $(if $(filter x86_64-%,$(shell $(1) -dumpmachine 2>/dev/null)),\
	-minline-stringops-dynamically -mmemcpy-strategy=vector_loop:256:noalign$(comma)libcall:-1:noalign)
comma := ,
LDFLAGS_ALL = $(OPT) $(LDFLAGS)

ifeq ($(V),1)
Q :=
quiet = @true
else
Q := @
quiet = @printf '  %-7s %s\n'
endif

PROTO_SRC := $(wildcard libproto/*.c) $(wildcard libproto/client/*.c)
BROKER_SRC := $(wildcard libbroker/*.c)
CLI_SRC := $(wildcard cmd/cli_*.c)
CMD_SRC := $(filter-out $(CLI_SRC),$(wildcard cmd/*.c))
UNIT_SRC := $(wildcard tests/unit/test_*.c)
INTEROP_SRC := $(wildcard tests/interop/*.c)
CLIENT_SRC := $(wildcard tests/client/*.c)

PROTO_OBJ := $(PROTO_SRC:%.c=$(BUILD)/%.o)
BROKER_OBJ := $(BROKER_SRC:%.c=$(BUILD)/%.o)
CMD_OBJ := $(CMD_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/%.o)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/unit/%)
INTEROP_BIN := $(BUILD)/tests/interop/interop
LOADGEN_BIN := $(BUILD)/tests/bench/loadgen
NATSLOAD_BIN := $(BUILD)/tests/bench/natsload
JSREADY_BIN := $(BUILD)/tests/bench/jsready
JSCONS_BIN := $(BUILD)/tests/bench/jscons
HTTPIDLE_BIN := $(BUILD)/tests/bench/httpidle
CLIENT_BIN := $(BUILD)/tests/client/client-e2e
CRASHPUB_BIN := $(BUILD)/tests/crash/crashpub
CONSPUB_BIN := $(BUILD)/tests/crash/conspub

NATSCTL := $(BUILD)/natsctl
# The libraries and tests always build against glibc (cmocka, libnats and the sanitizers need it);
# with STATIC=1 the natsctl binary is compiled a second time, from the same sources, with musl.
STATIC_DIR := $(BUILD)/static
STATIC_OBJ := $(addprefix $(STATIC_DIR)/,$(PROTO_SRC:.c=.o) $(BROKER_SRC:.c=.o) $(CLI_SRC:.c=.o) \
	$(CMD_SRC:.c=.o))
MUSL := .deps/musl
MUSL_LIBS := $(MUSL)/lib/libuv.a $(MUSL)/lib/libcjson.a $(MUSL)/lib/libedit.a $(MUSL)/lib/libtinfo.a \
	$(MUSL)/lib/libcrypt.a $(MUSL)/lib/libssl.a $(MUSL)/lib/libcrypto.a
LIBPROTO := $(BUILD)/libproto.a
LIBBROKER := $(BUILD)/libbroker.a
LIBCLI := $(BUILD)/libcli.a

.PHONY: all help deps run test check unit cross-check monitor-test cluster-test bats bats-reference bats-clients-reference interop completions man client-e2e client-e2e-nats-server interop-nats-server js-client js-client-nats-server fuzz bench bench-core bench-tls crash-test crash-test-nats-server consumer-crash-test consumer-crash-test-nats-server \
	format format-check clean distclean asan-test

all: $(NATSCTL)

help:
	@echo 'make             build $(BUILD)/natsctl (static, musl; STATIC=0 for dynamic glibc,'
	@echo '                 also the fallback when the musl libuv cannot be built)'
	@echo 'make run         install what is missing, build, start the broker with streams in .data/'
	@echo '                 (RUN_ARGS=... adds server flags, RUN_STORE=DIR moves the store)'
	@echo 'make test        install, build and run every test (also under ASan+UBSan, and the fuzzers)'
	@echo 'make check       unit tests only        make bats      CLI tests only'
	@echo 'make interop     libnats tests against SERVER=natsctl|nats-server'
	@echo 'make monitor-test the monitoring endpoints against nats-server'"'"'s'
	@echo 'make cluster-test three-server clusters: natsctl only, and natsctl with nats-server'
	@echo 'make js-client   nats.js tests against SERVER=natsctl|nats-server (needs node, npm)'
	@echo 'make crash-test  JetStream under kill -9 and a full disk (CRASH_SERVER=natsctl|nats-server)'
	@echo 'make fuzz        run each fuzzer for FUZZ_SECONDS'
	@echo 'make bench       natsctl server vs nats-server side by side, writes docs/benchmarks.md'
	@echo 'make bench-tls   the TLS and permission-cost part of make bench alone, to stdout'
	@echo 'make format      clang-format every C file (format-check only checks)'
	@echo 'make completions regenerate the shell completion scripts in completions/'
	@echo 'make cross-check compile every source for arm64 (CROSS_CC=aarch64-linux-gnu-gcc)'

deps:
	$(Q)scripts/deps.sh

# libproto is where integer truncation is a security bug, so it also builds with -Wconversion.
# (The client rule has the shorter stem for libproto/client/*, so make prefers it.)
$(BUILD)/libproto/client/%.o: libproto/client/%.c
	$(quiet) CC $@
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS_CLIENT) -c $< -o $@

$(BUILD)/libproto/%.o: libproto/%.c
	$(quiet) CC $@
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS_PROTO) -c $< -o $@

$(BUILD)/libbroker/%.o: libbroker/%.c
	$(quiet) CC $@
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS_BROKER) -c $< -o $@

$(BUILD)/%.o: %.c
	$(quiet) CC $@
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS_ALL) -c $< -o $@

$(LIBPROTO): $(PROTO_OBJ)
	$(quiet) AR $@
	$(Q)rm -f $@ && ar rcs $@ $^

$(LIBBROKER): $(BROKER_OBJ)
	$(quiet) AR $@
	$(Q)rm -f $@ && ar rcs $@ $^

# The cli_* helpers form a library so unit tests can link them without main().
$(LIBCLI): $(CLI_OBJ)
	$(quiet) AR $@
	$(Q)rm -f $@ && ar rcs $@ $^

ifeq ($(STATIC),1)
# One static binary with musl: an idle broker then maps a few hundred KiB instead of glibc's
# shared objects (2.5 MiB RSS), and the binary runs on any Linux without libraries installed.
# musl's memcpy starts every copy with `rep movs`, slow for the short copies of the message path
# (fan-out of 16 B messages took 60% more server CPU than with glibc), so copies up to 256 bytes
# are inlined as vector loops and only longer ones call memcpy. -minline-all-stringops would be
# simpler but turns memcmp into `repz cmpsb`, which is slower still.
STATIC_CC := musl-gcc
STATIC_STRINGOPS := $(call stringops_for,$(STATIC_CC))
STATIC_CFLAGS = $(CFLAGS_BASE) $(WARN) -I$(MUSL)/include -I$(MUSL)/include/cjson \
	-ffunction-sections -fdata-sections $(STATIC_STRINGOPS) $(CFLAGS)

$(STATIC_DIR)/libproto/client/%.o: libproto/client/%.c | $(MUSL_LIBS)
	$(quiet) CC $@
	$(Q)mkdir -p $(@D)
	$(Q)$(STATIC_CC) $(STATIC_CFLAGS) $(INC_CLIENT) $(STRICT) -c $< -o $@

$(STATIC_DIR)/libproto/%.o: libproto/%.c | $(MUSL_LIBS)
	$(quiet) CC $@
	$(Q)mkdir -p $(@D)
	$(Q)$(STATIC_CC) $(STATIC_CFLAGS) $(INC_PROTO) $(STRICT) -c $< -o $@

$(STATIC_DIR)/libbroker/%.o: libbroker/%.c | $(MUSL_LIBS)
	$(quiet) CC $@
	$(Q)mkdir -p $(@D)
	$(Q)$(STATIC_CC) $(STATIC_CFLAGS) $(INC_BROKER) -c $< -o $@

$(STATIC_DIR)/%.o: %.c | $(MUSL_LIBS)
	$(quiet) CC $@
	$(Q)mkdir -p $(@D)
	$(Q)$(STATIC_CC) $(STATIC_CFLAGS) $(INC_ALL) -c $< -o $@

# scripts/static-deps.sh and static-openssl.sh return at once when .deps/musl matches them. When
# the musl libraries cannot be had (the Debian source mirror unreachable, tools missing), a dynamic
# glibc binary is built instead, with the reason on stderr: a working natsctl beats a failed build.
# So this target always looks, and the link itself is $(STATIC_DIR)/natsctl, hard-linked into place.
.PHONY: $(NATSCTL)
$(NATSCTL):
	$(Q)if scripts/static-deps.sh && scripts/static-openssl.sh; then \
		$(MAKE) --no-print-directory $(if $(filter 1,$(V)),,-s) $(STATIC_DIR)/natsctl && ln -f $(STATIC_DIR)/natsctl $@; \
	else \
		echo 'natsctl: no static musl build (reason above); building $@ against glibc instead' >&2; \
		$(MAKE) --no-print-directory STATIC=0 $@; \
	fi

# OpenSSL's sections go after everything else (scripts/openssl-sections.ld), so that a server
# without TLS does not map them.
$(STATIC_DIR)/natsctl: $(STATIC_OBJ) $(MUSL_LIBS) scripts/openssl-sections.ld
	$(quiet) LINK $@
	$(Q)$(STATIC_CC) $(LDFLAGS_ALL) -static -Wl,--gc-sections -Wl,-T,scripts/openssl-sections.ld \
		-o $@ $(STATIC_OBJ) $(MUSL_LIBS)
else
$(NATSCTL): $(CMD_OBJ) $(LIBCLI) $(LIBBROKER) $(LIBPROTO)
	$(quiet) LINK $@
	$(Q)$(CC) $(LDFLAGS_ALL) -o $@ $(CMD_OBJ) $(LIBCLI) $(LIBBROKER) $(LIBPROTO) $(PKG_LIBS) \
		$(CRYPT_LIBS) -lm
endif

# Tests use cmocka's macros, which do not survive every strict warning, so they get the base set.
TEST_CFLAGS = $(CFLAGS_BASE) $(INC_ALL) -Wall -Wextra $(if $(filter 1,$(WERROR)),-Werror) $(PKG_CFLAGS) $(CFLAGS)

$(BUILD)/tests/unit/%: tests/unit/%.c $(LIBCLI) $(LIBBROKER) $(LIBPROTO)
	$(quiet) CC $@
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(TEST_CFLAGS) -o $@ $< $(LIBCLI) $(LIBBROKER) $(LIBPROTO) $(PKG_LIBS) $(CRYPT_LIBS) \
		-lcmocka -lm

$(INTEROP_BIN): $(INTEROP_SRC)
	$(quiet) CC $@
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(TEST_CFLAGS) -o $@ $(INTEROP_SRC) $$(pkg-config --cflags --libs libnats) -lcmocka -lpthread

$(CLIENT_BIN): $(CLIENT_SRC) $(LIBPROTO)
	$(quiet) CC $@
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(TEST_CFLAGS) -o $@ $(CLIENT_SRC) $(LIBPROTO) $(PKG_LIBS) -lcmocka -lm

$(CRASHPUB_BIN) $(CONSPUB_BIN): $(BUILD)/tests/crash/%: tests/crash/%.c tests/crash/crashlib.c tests/crash/crashlib.h
	$(quiet) CC $@
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(TEST_CFLAGS) -o $@ $< tests/crash/crashlib.c $$(pkg-config --cflags --libs libnats) -lpthread

$(LOADGEN_BIN): tests/bench/loadgen.c
	$(quiet) CC $@
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS_BASE) $(INC_ALL) $(WARN) -O2 -o $@ $< -lpthread -lm

$(NATSLOAD_BIN) $(JSCONS_BIN): $(BUILD)/tests/bench/%: tests/bench/%.c
	$(quiet) CC $@
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS_BASE) $(INC_ALL) $(WARN) -O2 -o $@ $< -lnats -lpthread

# Streams are on, kept in .data/ next to the checkout so they survive reboots and `make clean`.
RUN_STORE ?= .data
run: deps $(NATSCTL)
	exec $(NATSCTL) server -js -sd $(RUN_STORE) $(RUN_ARGS)

check unit: $(UNIT_BIN)
	$(Q)tests/unit/run.sh $(UNIT_BIN)

bats: $(NATSCTL)
	$(Q)NATSCTL=$(abspath $(NATSCTL)) bats tests/bats

# The wire-level expectations, proven against the reference server.
bats-reference:
	$(Q)WIRE_SERVER=nats-server bats tests/bats/15-wire.bats

# pub, sub, request, reply and bench against the reference server: the client tools must work
# with both.
CLIENT_BATS := tests/bats/20-pub.bats tests/bats/25-client-errors.bats tests/bats/30-sub.bats \
	tests/bats/40-request.bats tests/bats/50-reply.bats tests/bats/60-bench.bats \
	tests/bats/61-bench-js.bats
bats-clients-reference: $(NATSCTL)
	$(Q)NATSCTL=$(abspath $(NATSCTL)) WIRE_SERVER=nats-server bats $(CLIENT_BATS)

interop: $(NATSCTL) $(INTEROP_BIN)
	$(Q)NATSCTL=$(abspath $(NATSCTL)) tests/interop/run.sh $(SERVER) $(abspath $(INTEROP_BIN))

interop-nats-server:
	$(Q)$(MAKE) --no-print-directory interop SERVER=nats-server

# The monitoring endpoints' JSON against nats-server's, and their counters after known traffic.
monitor-test: $(NATSCTL)
	$(Q)tests/monitor/compare.sh $(NATSCTL)

# Clusters on loopback (tests/cluster/): three natsctl servers, and two natsctl servers with one
# nats-server, forming a mesh from one seed and delivering across routes exactly once.
cluster-test: $(NATSCTL)
	$(Q)NATSCTL=$(abspath $(NATSCTL)) bats tests/cluster

# The client connection (libproto/client/) end to end, against SERVER=natsctl|nats-server.
client-e2e: $(NATSCTL) $(CLIENT_BIN)
	$(Q)NATSCTL=$(abspath $(NATSCTL)) tests/client/run.sh $(SERVER) $(abspath $(CLIENT_BIN))

client-e2e-nats-server:
	$(Q)$(MAKE) --no-print-directory client-e2e SERVER=nats-server


# nats.js (npm nats, pinned in tests/js/package-lock.json) against SERVER=natsctl|nats-server;
# tests/js/install.sh installs node and nats.js (the npm registry is needed once).
JS_CLIENT_STAMP := tests/js/node_modules/.package-lock.json
$(JS_CLIENT_STAMP): tests/js/package.json tests/js/package-lock.json
	$(Q)tests/js/install.sh

js-client: $(NATSCTL) $(JS_CLIENT_STAMP)
	$(Q)NATSCTL=$(abspath $(NATSCTL)) tests/js/run.sh $(SERVER)

js-client-nats-server:
	$(Q)$(MAKE) --no-print-directory js-client SERVER=nats-server

# The file store under kill -9 (CRASH_SERVER=natsctl|nats-server), and full on a small tmpfs
# (needs root; skips otherwise). Each skips while natsctl's server has no JetStream.
CRASH_SERVER ?= natsctl
crash-test: $(NATSCTL) $(CRASHPUB_BIN)
	$(Q)CRASH_SERVER=$(CRASH_SERVER) tests/crash/crash.sh $(abspath $(NATSCTL)) $(abspath $(CRASHPUB_BIN))
	$(Q)CRASH_SERVER=$(CRASH_SERVER) tests/crash/fulldisk.sh $(abspath $(NATSCTL)) $(abspath $(CRASHPUB_BIN))

crash-test-nats-server:
	$(Q)$(MAKE) --no-print-directory crash-test CRASH_SERVER=nats-server

# A durable consumer under kill -9: at-least-once, nothing lost, no redelivery of a confirmed
# ack (CRASH_SERVER=natsctl|nats-server).
consumer-crash-test: $(NATSCTL) $(CONSPUB_BIN)
	$(Q)CRASH_SERVER=$(CRASH_SERVER) tests/crash/consumer-crash.sh $(abspath $(NATSCTL)) $(abspath $(CONSPUB_BIN))

consumer-crash-test-nats-server:
	$(Q)$(MAKE) --no-print-directory consumer-crash-test CRASH_SERVER=nats-server

# The committed scripts in completions/ are generated; a bats test fails when they drift.
completions: $(NATSCTL)
	$(Q)$(NATSCTL) completion bash > completions/natsctl.bash
	$(Q)$(NATSCTL) completion zsh > completions/_natsctl
	$(Q)$(NATSCTL) completion fish > completions/natsctl.fish

# docs/natsctl.1 is generated from the command table too, and checked the same way.
man: $(NATSCTL)
	$(Q)$(NATSCTL) __man > docs/natsctl.1

# Every library and command source compiled (not linked) for arm64 with the static build's flags,
# against the host's libuv/cJSON/libedit/OpenSSL headers (OpenSSL's configuration header lives in
# the host's multiarch directory): proves the build is not x86-only. Needs gcc-aarch64-linux-gnu;
# not part of `make test`.
CROSS_CC ?= aarch64-linux-gnu-gcc
CROSS_FLAGS = -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -DNATSCTL_VERSION='"$(VERSION)"' \
	-DOPENSSL_API_COMPAT=30000 -DOPENSSL_NO_DEPRECATED \
	-O2 $(WARN) -ffunction-sections -fdata-sections $(call stringops_for,$(CROSS_CC)) \
	-idirafter /usr/include -idirafter /usr/include/cjson \
	-idirafter /usr/include/$(shell $(CC) -print-multiarch 2>/dev/null) $(CFLAGS)
cross-check:
	$(Q)command -v $(CROSS_CC) >/dev/null || \
		{ echo 'cross-check: $(CROSS_CC) not found (apt-get install gcc-aarch64-linux-gnu)' >&2; exit 1; }
	$(Q)fail=0; for f in $(PROTO_SRC) $(BROKER_SRC) $(CLI_SRC) $(CMD_SRC); do \
		case $$f in \
		libproto/client/*) inc='$(INC_CLIENT) $(STRICT)' ;; \
		libproto/*) inc='$(INC_PROTO) $(STRICT)' ;; \
		libbroker/*) inc='$(INC_BROKER)' ;; \
		*) inc='$(INC_ALL)' ;; \
		esac; \
		$(CROSS_CC) $(CROSS_FLAGS) $$inc -c $$f -o /dev/null || fail=1; \
	done; \
	if ((fail)); then echo 'cross-check: failed' >&2; exit 1; fi; \
	echo 'cross-check: every source compiles for $(shell $(CROSS_CC) -dumpmachine 2>/dev/null)'

FUZZ_SECONDS ?= 30
fuzz:
	$(Q)tests/fuzz/run.sh $(FUZZ_SECONDS)

$(JSREADY_BIN): tests/bench/jsready.c
	$(quiet) CC $@
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS_BASE) $(WARN) -O2 -o $@ $<

$(HTTPIDLE_BIN): tests/bench/httpidle.c
	$(quiet) CC $@
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS_BASE) $(WARN) -O2 -o $@ $<

bench: $(NATSCTL) $(LOADGEN_BIN) $(NATSLOAD_BIN) $(JSREADY_BIN) $(JSCONS_BIN) $(HTTPIDLE_BIN)
	$(Q)tests/bench/bench.sh $(abspath $(NATSCTL)) $(abspath $(LOADGEN_BIN)) $(abspath $(NATSLOAD_BIN))

# The name issue 2 asked for; the same run.
bench-core: bench

# The TLS and permission section of make bench alone (tests/bench/tls.sh), printed as markdown.
bench-tls: $(NATSCTL)
	$(Q)tests/bench/tls.sh $(abspath $(NATSCTL))

# The whole suite: plain build, every suite against natsctl (and the reference server where the
# suite has both sides), everything again under ASan+UBSan, then the fuzzers for a bounded time.
# Each suite prints how long it took, so a slow one shows in CI's log.
TEST_SUITES := all check bats bats-reference bats-clients-reference monitor-test cluster-test interop \
	interop-nats-server crash-test consumer-crash-test js-client js-client-nats-server \
	client-e2e client-e2e-nats-server asan-test fuzz
test: deps
	$(Q)for suite in $(TEST_SUITES); do \
		start=$$(date +%s); \
		$(MAKE) --no-print-directory $$suite || { echo "make test: $$suite FAILED"; exit 1; }; \
		echo "make test: $$suite took $$(( $$(date +%s) - start )) s"; \
	done
	@echo 'make test: all suites passed'

asan-test:
	$(Q)ASAN_OPTIONS=detect_leaks=1 $(MAKE) --no-print-directory SANITIZE=address,undefined \
		all check bats cluster-test interop client-e2e

FORMAT_FILES = $(wildcard cmd/*.[ch] libproto/*.[ch] libproto/*/*.[ch] libbroker/*.[ch] \
	tests/*/*.[ch])
format:
	clang-format -i $(FORMAT_FILES)

format-check:
	clang-format --dry-run --Werror $(FORMAT_FILES)

clean:
	rm -rf build build-san build-fuzz

distclean: clean
	rm -rf .deps

# Installation where packagers expect it: PREFIX (default /usr/local) and DESTDIR are honoured, and
# each directory can be overridden on its own. The completion scripts go where bash-completion,
# zsh and fish look for vendor completions, so no shell configuration is needed.
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR ?= $(PREFIX)/share/zsh/vendor-completions
FISHCOMPDIR ?= $(PREFIX)/share/fish/vendor_completions.d
INSTALL ?= install
INSTALLED := $(BINDIR)/natsctl $(MANDIR)/man1/natsctl.1 $(BASHCOMPDIR)/natsctl \
	$(ZSHCOMPDIR)/_natsctl $(FISHCOMPDIR)/natsctl.fish

.PHONY: install uninstall
install: $(NATSCTL)
	$(Q)$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(BASHCOMPDIR) \
		$(DESTDIR)$(ZSHCOMPDIR) $(DESTDIR)$(FISHCOMPDIR)
	$(Q)$(INSTALL) -m 755 $(NATSCTL) $(DESTDIR)$(BINDIR)/natsctl
	$(Q)$(INSTALL) -m 644 docs/natsctl.1 $(DESTDIR)$(MANDIR)/man1/natsctl.1
	$(Q)$(INSTALL) -m 644 completions/natsctl.bash $(DESTDIR)$(BASHCOMPDIR)/natsctl
	$(Q)$(INSTALL) -m 644 completions/_natsctl $(DESTDIR)$(ZSHCOMPDIR)/_natsctl
	$(Q)$(INSTALL) -m 644 completions/natsctl.fish $(DESTDIR)$(FISHCOMPDIR)/natsctl.fish

uninstall:
	$(Q)rm -f $(addprefix $(DESTDIR),$(INSTALLED))

-include $(shell find build build-san -name '*.d' 2>/dev/null)
