# coldchaind - GNU Makefile, no configure step.
# User CFLAGS/CPPFLAGS/LDFLAGS are kept; library flags come from pkg-config.

# The version: coldchaind -V, coldchainctl --version, the man pages, the
# Debian package (debian/changelog must agree).
VERSION    = 0.1.0

PREFIX     ?= /usr/local
EXEC_PREFIX ?= $(PREFIX)
SBINDIR    ?= $(EXEC_PREFIX)/sbin
BINDIR     ?= $(EXEC_PREFIX)/bin
LIBEXECDIR ?= $(EXEC_PREFIX)/libexec
# GNU defaults, except for PREFIX=/usr, where FHS puts the configuration in
# /etc (not /usr/etc).  Variable data and runtime files live in /var and
# /run whatever the prefix: the unit's StateDirectory= and RuntimeDirectory=
# are always /var/lib/NAME and /run/NAME, and /usr/local/var is not FHS.
ifeq ($(PREFIX),/usr)
SYSCONFDIR ?= /etc
else
SYSCONFDIR ?= $(PREFIX)/etc
endif
LOCALSTATEDIR ?= /var
RUNSTATEDIR   ?= /run
DATADIR    ?= $(PREFIX)/share
MANDIR     ?= $(DATADIR)/man
DOCDIR     ?= $(DATADIR)/doc/coldchaind
BASHCOMPDIR ?= $(DATADIR)/bash-completion/completions
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR    ?= $(PREFIX)/lib/sysusers.d
DESTDIR    ?=

CC         ?= cc
PKG_CONFIG ?= pkg-config
SHELL      = /bin/bash
CFLAGS     ?= -O2 -g
WERROR     ?= -Werror
BUILD      ?= build

# Libraries the daemon links against (pkg-config names).
PKGS = libmodbus libcurl libconfig zlib libcjson openssl libmicrohttpd libcrypt nettle

WARN = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2
PKG_CFLAGS = $(shell $(PKG_CONFIG) --cflags $(PKGS))
PKG_LIBS   = $(shell $(PKG_CONFIG) --libs $(PKGS))
# Compiled-in defaults: the config path, the state directory, the control
# socket (daemon/paths.h), all from the directory variables above.
PATH_DEFS  = -DCC_SYSCONFDIR=\"$(SYSCONFDIR)\" -DCC_LOCALSTATEDIR=\"$(LOCALSTATEDIR)\" \
	-DCC_RUNSTATEDIR=\"$(RUNSTATEDIR)\" -DCC_DATADIR=\"$(DATADIR)\" -DCC_LIBEXECDIR=\"$(LIBEXECDIR)\"
# _FILE_OFFSET_BITS=64: on 32-bit targets (armhf) off_t, ino_t and readdir()
# are 64-bit, as on amd64; without it readdir() fails with EOVERFLOW on a
# file system with 64-bit directory offsets and the journal sees no segment.
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 -DCC_VERSION=\"$(VERSION)\" $(PATH_DEFS) -pthread $(WARN) $(WERROR) $(PKG_CFLAGS) $(CFLAGS)
ALL_LIBS   = $(PKG_LIBS) -pthread -lm
# The bench and soak tools' MQTT publishers and reference subscriber use
# libmosquitto (a peer not written here); the daemon has its own client.
TOOL_LIBS  = $(shell $(PKG_CONFIG) --libs libmosquitto)

LIB_SRCS  = $(sort $(wildcard daemon/*.c daemon/config/*.c daemon/engine/*.c daemon/models/*.c daemon/web/*.c codec/*.c drivers/*.c outputs/*.c report/*.c util/*.c))
LIB_SRCS := $(filter-out daemon/main.c,$(LIB_SRCS))
LIB_OBJS  = $(LIB_SRCS:%.c=$(BUILD)/%.o) $(BUILD)/gen/i18n_mo.o $(BUILD)/gen/web_assets.o
UNIT_SRCS = $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS = $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
TOOL_BINS = $(BUILD)/tests/modbus_sim $(BUILD)/tests/smtp_send $(BUILD)/tests/sms_tool $(BUILD)/tests/transport_cli \
	$(BUILD)/bench/mqtt_raw_sub # also the MQTT codec's peer in tests/integration/test_mqtt_wire_*
FUZZ_SRCS = $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_NAMES = $(FUZZ_SRCS:tests/fuzz/fuzz_%.c=%)
# The corpus replayers: each fuzz target linked with a plain main (gcc).
FUZZ_REPLAY = $(FUZZ_NAMES:%=$(BUILD)/fuzz/replay_%)
FUZZ_TIME ?= 60
# Benchmarks: tests/bench/bench_*.c (binaries) and bench_*.sh (scripts).
BENCH_SRCS = $(sort $(wildcard tests/bench/bench_*.c))
BENCH_BINS = $(BENCH_SRCS:tests/bench/%.c=$(BUILD)/bench/%)
# Helpers the bench scripts run (not benchmarks themselves).
BENCH_TOOLS = $(BUILD)/bench/mqtt_pub_bench $(BUILD)/bench/alarm_lat_probe $(BUILD)/bench/hub_gen $(BUILD)/bench/hub_journal $(BUILD)/bench/mqtt_raw_sub \
	$(BUILD)/bench/wake_probe
# The soak test's MQTT publisher; the run's length in seconds.
SOAK_TOOLS = $(BUILD)/soak/soak_pub
# The MQTT publishers among them share tests/bench/pubcommon.c (callbacks, waits, clocks).
PUB_TOOLS = $(BUILD)/bench/mqtt_pub_bench $(BUILD)/bench/alarm_lat_probe $(BUILD)/bench/hub_gen $(SOAK_TOOLS)
DURATION ?= 3600
FUZZ_FLAGS = -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined

# The man pages as installed (paths substituted; see SUBST below).
MAN_PAGES = $(BUILD)/man/coldchaind.8 $(BUILD)/man/coldchainctl.1 $(BUILD)/coldchaind.conf.5

.PHONY: cross programs unit-tests check-unit pot all test check demo deps install uninstall clean bench soak fuzz fuzz-build FORCE
.SUFFIXES:

# The benchmarks and the soak publisher are built here too (run only by
# `make bench` and `make soak`), so that a change which breaks one fails
# `make test` instead of the next `make bench`.
all: $(BUILD)/coldchaind $(BUILD)/coldchainctl $(BUILD)/coldchainctl-full $(MAN_PAGES) $(BUILD)/coldchaind.conf $(BUILD)/coldchaind.service $(UNIT_BINS) $(TOOL_BINS) $(FUZZ_REPLAY) \
	$(BENCH_BINS) $(BENCH_TOOLS) $(SOAK_TOOLS)

# Every installed text that names a path gets it from the directory
# variables: @SYSCONFDIR@ etc. replaced at build time (config/*.in, the man
# pages, the unit, the Grafana provisioning file).
SUBST = sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
	-e 's|@LOCALSTATEDIR@|$(LOCALSTATEDIR)|g' -e 's|@RUNSTATEDIR@|$(RUNSTATEDIR)|g' \
	-e 's|@DATADIR@|$(DATADIR)|g' -e 's|@DOCDIR@|$(DOCDIR)|g' -e 's|@PKGDATADIR_REL@|$(PKGDATADIR_REL)|g' \
	-e 's|@LIBEXECDIR@|$(LIBEXECDIR)|g'
# The daemon reads @include relative to the config's directory (never an
# absolute path): the shipped data as seen from SYSCONFDIR/coldchaind.
PKGDATADIR_REL = $(shell realpath -m --relative-to=$(SYSCONFDIR)/coldchaind $(DATADIR)/coldchaind)

$(BUILD)/man/%: daemon/man/% $(BUILD)/flags.stamp
	@mkdir -p $(@D)
	$(SUBST) $< >$@.tmp && mv $@.tmp $@

# The installed configuration and the unit.
$(BUILD)/coldchaind.conf: config/coldchaind.conf.in $(BUILD)/flags.stamp
	$(SUBST) $< >$@.tmp && mv $@.tmp $@
$(BUILD)/coldchaind.service: config/coldchaind.service.in $(BUILD)/flags.stamp
	$(SUBST) $< >$@.tmp && mv $@.tmp $@
$(BUILD)/grafana-dashboards.yaml: dashboards/provisioning/dashboards/coldchaind.yaml $(BUILD)/flags.stamp
	$(SUBST) $< >$@.tmp && mv $@.tmp $@

# What `make install` needs, and the unit tests alone (debian/rules: a
# package build runs no network servers).
programs: $(BUILD)/coldchaind $(BUILD)/coldchainctl $(BUILD)/coldchainctl-full $(MAN_PAGES) $(BUILD)/coldchaind.conf \
	$(BUILD)/coldchaind.service $(BUILD)/grafana-dashboards.yaml
unit-tests: $(UNIT_BINS)
check-unit: unit-tests
	@f=0; for t in $(UNIT_BINS); do $$t >$$t.log 2>&1 || { echo "FAIL $$t:"; tail -20 $$t.log; f=1; }; done; \
	[ $$f = 0 ] && echo "unit tests: all $(words $(UNIT_BINS)) passed"; exit $$f

# coldchaind.conf(5) is generated from the schema tables, so it cannot drift.
$(BUILD)/coldchaind.conf.5: $(BUILD)/coldchaind
	$(BUILD)/coldchaind -M >$@.tmp && mv $@.tmp $@

# Objects are rebuilt when the flags change (e.g. SYSCONFDIR for the default
# config path), not only when a source does.
$(BUILD)/flags.stamp: FORCE
	@mkdir -p $(@D)
	@echo '$(CC) $(ALL_CFLAGS) $(CPPFLAGS) $(SBINDIR) $(BINDIR) $(DOCDIR)' | cmp -s - $@ || \
		echo '$(CC) $(ALL_CFLAGS) $(CPPFLAGS) $(SBINDIR) $(BINDIR) $(DOCDIR)' >$@

$(BUILD)/%.o: %.c $(BUILD)/flags.stamp
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(CPPFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/libcoldchain.a: $(LIB_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/coldchaind: $(BUILD)/daemon/main.o $(BUILD)/libcoldchain.a
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(ALL_LIBS)

# coldchainctl beside the daemon, as bgpctl sits beside bgpd, in two
# binaries (ctl/thin.c): coldchainctl answers the control-socket commands
# linked with libc, libm and cJSON only (THIN_LIBS: a call that would pull in
# more fails to link), and runs coldchainctl-full, every ctl/*.c but
# thin.c (one file per command family), for the rest.
THIN_OBJS = $(BUILD)/ctl/thin.o $(BUILD)/ctl/ctl_socket.o $(BUILD)/ctl/ctl_opts.o
THIN_LIBS = $(shell $(PKG_CONFIG) --libs libcjson) -lm
CTL_OBJS = $(patsubst %.c,$(BUILD)/%.o,$(filter-out ctl/thin.c,$(sort $(wildcard ctl/*.c))))
$(BUILD)/coldchainctl: $(THIN_OBJS) $(BUILD)/libcoldchain.a
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(THIN_LIBS)
$(BUILD)/coldchainctl-full: $(CTL_OBJS) $(BUILD)/libcoldchain.a
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(ALL_LIBS)

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(BUILD)/libcoldchain.a
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(ALL_LIBS)

$(BUILD)/tests/modbus_sim: $(BUILD)/tests/modbus_sim.o $(BUILD)/libcoldchain.a
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(ALL_LIBS)

# The e-mail transport driven by hand (tests/integration/test_email_*.sh).
$(BUILD)/tests/smtp_send: $(BUILD)/tests/smtp_send.o $(BUILD)/libcoldchain.a
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(ALL_LIBS)

# The SMS transport driven by hand (tests/integration/test_sms_*.sh).
$(BUILD)/tests/sms_tool: $(BUILD)/tests/sms_tool.o $(BUILD)/libcoldchain.a
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(ALL_LIBS)

# The channel transports driven by hand (tests/integration/test_telegram_*, test_zalo_*).
$(BUILD)/tests/transport_cli: $(BUILD)/tests/transport_cli.o $(BUILD)/libcoldchain.a
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(ALL_LIBS)

$(BUILD)/bench/%: $(BUILD)/tests/bench/%.o $(BUILD)/libcoldchain.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(ALL_LIBS) $(TOOL_LIBS)

$(PUB_TOOLS): $(BUILD)/tests/bench/pubcommon.o

$(BUILD)/soak/%: $(BUILD)/tests/soak/%.o
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(ALL_LIBS) $(TOOL_LIBS)

$(BUILD)/fuzz/replay_%: $(BUILD)/tests/fuzz/fuzz_%.o $(BUILD)/tests/fuzz/replay.o $(BUILD)/libcoldchain.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(ALL_LIBS)

# Translations (README "Translations"): the catalogue po/vi.po compiled by
# msgfmt and embedded in the binary as a C array (od + awk: no xxd), looked
# up per request by daemon/i18n.c.  `make pot` extracts po/coldchaind.pot
# from the sources (tests/config/check_po.sh checks it is up to date).
I18N_SRCS = $(sort daemon/i18n.c $(wildcard daemon/web/*.c daemon/notify*.c) outputs/message.c)
XGETTEXT_FLAGS = --language=C --from-code=UTF-8 --keyword= --keyword=N_ --keyword=i18n_tr:2 --keyword=web_error:3 \
	--keyword=i18n_ntr:2,3 --add-comments=TRANSLATORS: --add-location=file --sort-output \
	--package-name=coldchaind --msgid-bugs-address=dev@coldchaind.invalid
POT_OUT ?= po/coldchaind.pot
pot:
	xgettext $(XGETTEXT_FLAGS) -o $(POT_OUT) $(I18N_SRCS)

$(BUILD)/po/vi.mo: po/vi.po
	@mkdir -p $(@D)
	msgfmt --check -o $@ $<

$(BUILD)/gen/i18n_mo.c: $(BUILD)/po/vi.mo
	@mkdir -p $(@D)
	{ echo '/* generated from po/vi.po by the Makefile: do not edit */'; \
	  echo '#include <stddef.h>'; \
	  echo 'extern const unsigned char i18n_mo_vi[];'; \
	  echo 'extern const size_t i18n_mo_vi_len;'; \
	  echo 'const unsigned char i18n_mo_vi[] = {'; \
	  od -An -v -tx1 $< | awk '{ l = ""; for (i = 1; i <= NF; i++) l = l "0x" $$i ","; print l }'; \
	  echo '};'; \
	  echo "const size_t i18n_mo_vi_len = $$(wc -c <$<);"; } >$@.tmp && mv $@.tmp $@

$(BUILD)/gen/i18n_mo.o: $(BUILD)/gen/i18n_mo.c $(BUILD)/flags.stamp
	$(CC) $(ALL_CFLAGS) $(CPPFLAGS) -c $< -o $@

# The web page's assets (static/*.css, *.js) as C arrays with a strong ETag
# (the first 16 hex digits of their SHA-256): compiled in, nothing to install.
WEB_ASSETS = $(sort $(wildcard static/*.css static/*.js))
$(BUILD)/gen/web_assets.c: $(WEB_ASSETS) Makefile
	@mkdir -p $(@D)
	{ echo '/* generated from static/ by the Makefile: do not edit */'; \
	  echo '#include "daemon/web/web_int.h"'; \
	  n=0; for f in $(WEB_ASSETS); do \
	    echo "static const unsigned char a$$n[] = {"; \
	    od -An -v -tx1 $$f | awk '{ l = ""; for (i = 1; i <= NF; i++) l = l "0x" $$i ","; print l }'; \
	    echo '0 };'; n=$$((n + 1)); done; \
	  echo 'const struct web_asset web_assets[] = {'; \
	  n=0; for f in $(WEB_ASSETS); do \
	    case $$f in *.css) t='text/css; charset=utf-8' ;; *) t='text/javascript; charset=utf-8' ;; esac; \
	    echo "	{ \"/$$f\", \"$$t\", a$$n, $$(wc -c <$$f), \"\\\"$$(sha256sum $$f | cut -c1-16)\\\"\" },"; \
	    n=$$((n + 1)); done; \
	  echo '};'; echo "const size_t web_assets_n = $$n;"; } >$@.tmp && mv $@.tmp $@

$(BUILD)/gen/web_assets.o: $(BUILD)/gen/web_assets.c daemon/web/web_int.h $(BUILD)/flags.stamp
	$(CC) $(ALL_CFLAGS) $(CPPFLAGS) -I. -c $< -o $@

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# Installs missing Debian packages when run as root, else prints the
# apt-get line and stops.
deps:
	@tests/deps.sh

test: deps
	@$(MAKE) --no-print-directory all
	@tests/run.sh $(BUILD)

# The whole suite again under AddressSanitizer + UndefinedBehaviorSanitizer.
check: deps
	@$(MAKE) --no-print-directory all BUILD=build-asan \
		CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
		LDFLAGS="-fsanitize=address,undefined"
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		LSAN_OPTIONS=suppressions=$(CURDIR)/tests/fuzz/lsan.supp \
		tests/run.sh build-asan

demo: deps
	@$(MAKE) --no-print-directory all
	@tests/demo.sh $(BUILD)

# Figures, printed with the machine they ran on; never pass/fail.
bench: deps
	@$(MAKE) --no-print-directory all $(BENCH_BINS) $(BENCH_TOOLS)
	@tests/bench/run.sh $(BUILD)

# Cross builds (README "Cross-building for arm64 and armhf"): `make cross
# ARCH=arm64|armhf` builds the programs and the unit tests into build-ARCH
# with Debian's cross compiler and the target's -dev packages (multiarch,
# `dpkg --add-architecture`), found by pkg-config in the triplet's
# directory.  Nothing here runs a target binary (coldchaind.conf.5 is made
# by the native build); tests/cross/test_cross.sh runs the unit tests under
# qemu-user-static.
CROSS_TRIPLET_arm64 = aarch64-linux-gnu
CROSS_TRIPLET_armhf = arm-linux-gnueabihf
ARCH ?= arm64
CROSS_TRIPLET = $(CROSS_TRIPLET_$(ARCH))
cross:
	@[ -n "$(CROSS_TRIPLET)" ] || { echo "make cross: ARCH must be arm64 or armhf (not $(ARCH))"; exit 2; }
	@command -v $(CROSS_TRIPLET)-gcc >/dev/null || { echo "make cross: $(CROSS_TRIPLET)-gcc missing;" \
		"tests/cross/deps.sh prints what to install"; exit 1; }
	@PKG_CONFIG_LIBDIR=/usr/lib/$(CROSS_TRIPLET)/pkgconfig:/usr/share/pkgconfig PKG_CONFIG_SYSROOT_DIR=/ \
		$(MAKE) --no-print-directory BUILD=build-$(ARCH) CC=$(CROSS_TRIPLET)-gcc AR=$(CROSS_TRIPLET)-ar \
		build-$(ARCH)/coldchaind build-$(ARCH)/coldchainctl build-$(ARCH)/coldchainctl-full $(UNIT_SRCS:tests/unit/%.c=build-$(ARCH)/tests/%)

# Reliability run (issue 8), never part of `make test`: DURATION seconds of
# Modbus and MQTT load with faults on a schedule; prints sent / stored /
# lost / duplicated, peak RSS and fds over time; exit 1 on a loss, a
# duplicate or a crash.  Builds only what it runs.
soak: deps
	@$(MAKE) --no-print-directory $(BUILD)/coldchaind $(BUILD)/tests/modbus_sim $(SOAK_TOOLS)
	@tests/soak/soak.sh $(BUILD) $(DURATION)

# libFuzzer (clang): every tests/fuzz/fuzz_*.c for FUZZ_TIME seconds each.
# New inputs go to build-fuzz/corpus/NAME; tests/fuzz/corpus/NAME are the
# seeds `make test` replays (merge new finds there with -merge=1).
fuzz-build:
	@command -v clang >/dev/null || { echo "make fuzz needs clang: apt-get install -y clang"; exit 1; }
	@$(MAKE) --no-print-directory BUILD=build-fuzz CC=clang CFLAGS="$(FUZZ_FLAGS)" \
		build-fuzz/libcoldchain.a $(FUZZ_NAMES:%=build-fuzz/tests/fuzz/fuzz_%.o)
	@for n in $(FUZZ_NAMES); do \
		clang -fsanitize=fuzzer,address,undefined -o build-fuzz/fuzz_$$n build-fuzz/tests/fuzz/fuzz_$$n.o \
			build-fuzz/libcoldchain.a $(ALL_LIBS) || exit 1; done

fuzz: fuzz-build
	@for n in $(FUZZ_NAMES); do \
		mkdir -p build-fuzz/corpus/$$n; \
		echo "=== fuzz $$n for $(FUZZ_TIME)s"; \
		LSAN_OPTIONS=suppressions=$(CURDIR)/tests/fuzz/lsan.supp \
		build-fuzz/fuzz_$$n -max_total_time=$(FUZZ_TIME) -print_final_stats=1 \
			build-fuzz/corpus/$$n tests/fuzz/corpus/$$n 2>&1 | \
			grep -E 'stat::number_of_executed_units|ERROR|SUMMARY|Done' ; \
		[ $${PIPESTATUS[0]} -eq 0 ] || exit 1; done

# Device templates for real hardware; the simulator's (sim-*.conf: make demo,
# tests) are not installed.
DEVICE_TEMPLATES = $(filter-out config/devices/sim-%.conf,$(wildcard config/devices/*.conf))
DASHBOARDS = $(wildcard dashboards/*.json)
# Shipped data, replaced on every install (not the site's to edit): the
# installed config @includes the profiles from here.
SHIPPED_DATA = config/profiles.conf config/processes.conf
# The README's reference chapters, installed in DOCDIR/docs.
DOC_PAGES = $(wildcard docs/*.md)
CONFDIR = $(SYSCONFDIR)/coldchaind
PKGDATADIR = $(DATADIR)/coldchaind

install: $(BUILD)/coldchaind $(BUILD)/coldchainctl $(BUILD)/coldchainctl-full $(MAN_PAGES) $(BUILD)/coldchaind.conf \
		$(BUILD)/coldchaind.service $(BUILD)/grafana-dashboards.yaml
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBEXECDIR)/coldchaind $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(CONFDIR)/devices $(DESTDIR)$(PKGDATADIR)/devices \
		$(DESTDIR)$(PKGDATADIR)/dashboards/provisioning/dashboards \
		$(DESTDIR)$(PKGDATADIR)/dashboards/provisioning/datasources $(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(DOCDIR)/docs \
		$(DESTDIR)$(SYSTEMDUNITDIR) $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(BASHCOMPDIR)
	install -m 0644 contrib/bash-completion/coldchainctl contrib/bash-completion/coldchaind $(DESTDIR)$(BASHCOMPDIR)/
	install -m 0755 $(BUILD)/coldchaind $(DESTDIR)$(SBINDIR)/coldchaind
	install -m 0755 $(BUILD)/coldchainctl $(DESTDIR)$(BINDIR)/coldchainctl
	install -m 0755 $(BUILD)/coldchainctl-full $(DESTDIR)$(LIBEXECDIR)/coldchaind/coldchainctl-full
	install -m 0644 $(BUILD)/man/coldchainctl.1 $(DESTDIR)$(MANDIR)/man1/coldchainctl.1
	install -m 0644 $(BUILD)/coldchaind.conf.5 $(DESTDIR)$(MANDIR)/man5/coldchaind.conf.5
	install -m 0644 $(BUILD)/man/coldchaind.8 $(DESTDIR)$(MANDIR)/man8/coldchaind.8
	install -m 0644 $(SHIPPED_DATA) $(DESTDIR)$(PKGDATADIR)/
	install -m 0644 $(DEVICE_TEMPLATES) $(DESTDIR)$(PKGDATADIR)/devices/
	install -m 0644 $(DASHBOARDS) $(DESTDIR)$(PKGDATADIR)/dashboards/
	install -m 0644 $(BUILD)/grafana-dashboards.yaml \
		$(DESTDIR)$(PKGDATADIR)/dashboards/provisioning/dashboards/coldchaind.yaml
	install -m 0644 dashboards/provisioning/datasources/coldchaind.yaml \
		$(DESTDIR)$(PKGDATADIR)/dashboards/provisioning/datasources/coldchaind.yaml
	sed 's|^@include "processes.conf"|@include "$(PKGDATADIR_REL)/processes.conf"|' config/coldchaind.conf.example \
		>$(DESTDIR)$(DOCDIR)/examples/coldchaind.conf.example
	chmod 0644 $(DESTDIR)$(DOCDIR)/examples/coldchaind.conf.example
	@# The README and its reference chapters (docs/*.md link ../README.md).
	install -m 0644 README.md $(DESTDIR)$(DOCDIR)/README.md
	install -m 0644 $(DOC_PAGES) $(DESTDIR)$(DOCDIR)/docs/
	install -m 0644 $(BUILD)/coldchaind.service $(DESTDIR)$(SYSTEMDUNITDIR)/coldchaind.service
	install -m 0644 config/coldchaind.sysusers $(DESTDIR)$(SYSUSERSDIR)/coldchaind.conf
	@# Device templates the site may edit: copy only those not present (never overwrite).
	@for f in $(DEVICE_TEMPLATES); do \
		t=$(DESTDIR)$(CONFDIR)/devices/$$(basename $$f); \
		[ -e $$t ] || install -m 0644 $$f $$t; done
	@# The live config: 0640, group coldchaind (the unit runs as that user
	@# and must read it; others must not - it may name secret files).
	@[ -e $(DESTDIR)$(CONFDIR)/coldchaind.conf ] || \
		install -m 0640 $(BUILD)/coldchaind.conf $(DESTDIR)$(CONFDIR)/coldchaind.conf
	@# On the live system (no DESTDIR): create the coldchaind user and group
	@# now, as a package's postinst would, and give the config its group.
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ] && command -v systemd-sysusers >/dev/null; then \
		systemd-sysusers $(SYSUSERSDIR)/coldchaind.conf && \
		{ [ "$$(stat -c %G $(CONFDIR)/coldchaind.conf)" != root ] || \
		  chgrp coldchaind $(CONFDIR)/coldchaind.conf; }; \
	elif [ -z "$(DESTDIR)" ]; then echo "note: create the coldchaind user (systemd-sysusers coldchaind.conf) and" \
		"chgrp coldchaind $(CONFDIR)/coldchaind.conf, or the service cannot read its config"; fi

# Removes what install put in place, except what the site has edited in
# SYSCONFDIR (the config, device templates).
uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/coldchaind $(DESTDIR)$(BINDIR)/coldchainctl
	rm -rf $(DESTDIR)$(LIBEXECDIR)/coldchaind
	rm -f $(DESTDIR)$(MANDIR)/man8/coldchaind.8 $(DESTDIR)$(MANDIR)/man5/coldchaind.conf.5
	rm -f $(DESTDIR)$(MANDIR)/man1/coldchainctl.1
	rm -f $(DESTDIR)$(BASHCOMPDIR)/coldchainctl $(DESTDIR)$(BASHCOMPDIR)/coldchaind
	rm -f $(DESTDIR)$(SYSTEMDUNITDIR)/coldchaind.service $(DESTDIR)$(SYSUSERSDIR)/coldchaind.conf
	rm -rf $(DESTDIR)$(PKGDATADIR) $(DESTDIR)$(DOCDIR)
	@for f in $(DEVICE_TEMPLATES); do \
		t=$(DESTDIR)$(CONFDIR)/devices/$$(basename $$f); \
		[ -e $$t ] && cmp -s $$f $$t && rm -f $$t; done; true
	@[ -e $(DESTDIR)$(CONFDIR)/coldchaind.conf ] && [ -e $(BUILD)/coldchaind.conf ] && \
		cmp -s $(BUILD)/coldchaind.conf $(DESTDIR)$(CONFDIR)/coldchaind.conf && \
		rm -f $(DESTDIR)$(CONFDIR)/coldchaind.conf; true
	-rmdir $(DESTDIR)$(CONFDIR)/devices $(DESTDIR)$(CONFDIR) 2>/dev/null

clean:
	rm -rf build build-asan build-fuzz build-arm64 build-armhf
