# mk/peers.mk — the peers: the same echo server and fetcher in other runtimes
# (peers/NAME/: Python asyncio (streams and protocols), uvloop, threads,
# processes; Node; Go; tokio; libuv),
# run by the same tests and, later, the same benchmarks. docs/peers.md is the lesson.
#
#   make peers        build bin/echo-PEER and bin/fetch-PEER for every peer whose
#                     toolchain is present (Debian packages installed first when
#                     root); a peer that cannot be built is skipped with one line
#   make test-peers   the end-to-end tests of the peers (tests/t_peers.sh)
#
#   make bench PEERS=1          (and bench-fetch, bench-c10k, bench-latency,
#                               bench-tasks, reference): the peers beside the models
#
# PEERS is exported to every runner's script, which asks peers/list.sh --bench
# for its list: unset or 0, the runs are the C models' as always; 1 (or all),
# every peer whose toolchain is present; or a list, PEERS=py-asyncio,node. A
# peer left out (no toolchain, not built) gets one line "peers: skipped NAME
# (why)" and the run goes on. PEERS_MISSING=node,go treats those peers as if
# their toolchain were missing (what tests/t_peers.sh simulates).
#
# `make test` builds them first (tests/t_peers.sh then tests every peer that
# built); a peer whose toolchain is missing is skipped with one line, so the C
# suite never fails because of another language's toolchain.

PEERS_ALL := $(shell peers/list.sh --all 2>/dev/null)
PEERS_PY  := $(filter py-%,$(PEERS_ALL))
PEERS_OUT := build/peers

.PHONY: peers peers-deps test-peers

export PEERS PEERS_MISSING
# With PEERS, the benchmarks build the peers first; `peers` runs make again for
# each peer, so it waits for `all` (the libraries the libuv peer links).
ifneq ($(filter-out 0,$(PEERS)),)
bench bench-fetch bench-c10k bench-latency bench-tasks reference: peers
peers: all
endif

# Install what is missing (root only), then build the peers list.sh finds.
# `peers` never fails because of a peer: each one that cannot be built says so.
peers: peers-deps
	@ok=$$(peers/list.sh 2>$(PEERS_OUT)/skipped); sed 's/^skipped: /peers: skipped /' $(PEERS_OUT)/skipped; \
	for p in $$ok; do \
	  if $(MAKE) --no-print-directory $(BIN)/echo-$$p $(BIN)/fetch-$$p >$(PEERS_OUT)/$$p.log 2>&1; then \
	    echo "peers: $$p built ($$(peers/list.sh --runtime $$p | tee $(PEERS_OUT)/$$p.runtime))"; \
	  else echo "peers: skipped $$p (its build failed: see $(PEERS_OUT)/$$p.log)"; fi; \
	done

# A peer needs modules and headers too, not only commands: peers/list.sh
# --missing names the packages, and deps.sh checks each as ":PKG" (the package
# itself), installing it as root or printing the apt-get line otherwise.
peers-deps:
	@mkdir -p $(PEERS_OUT)
	@for p in $(PEERS_ALL); do peers/list.sh --missing $$p; done | tr ' ' '\n' | sort -u | sed '/^$$/d' >$(PEERS_OUT)/missing
	@[ ! -s $(PEERS_OUT)/missing ] || scripts/deps.sh $$(sed 's/.*/:&/' $(PEERS_OUT)/missing) || \
	  echo "peers: could not install $$(tr '\n' ' ' <$(PEERS_OUT)/missing)— the peers needing them are skipped"

test-peers:
	@BIN=$(BIN) TBIN=$(TBIN) tests/t_peers.sh

# Python and Node peers: a launcher that execs the interpreter on the source
# (exec: the server's PID is the interpreter's, so signals reach it).
define peer_launcher
	@mkdir -p $(dir $@)
	@printf '#!/bin/sh\n# launcher written by mk/peers.mk\nexec %s "%s" "$$@"\n' '$(1)' '$(CURDIR)/$<' >$@
	@chmod +x $@
endef

$(PEERS_PY:%=$(BIN)/echo-%): $(BIN)/echo-%: peers/%/echo.py peers/common/peer.py
	$(call peer_launcher,/usr/bin/python3)
$(PEERS_PY:%=$(BIN)/fetch-%): $(BIN)/fetch-%: peers/%/fetch.py peers/common/peer.py
	$(call peer_launcher,/usr/bin/python3)
$(BIN)/echo-node: peers/node/echo.js peers/node/peer.js
	$(call peer_launcher,$(shell command -v node || echo node))
$(BIN)/fetch-node: peers/node/fetch.js peers/node/peer.js
	$(call peer_launcher,$(shell command -v node || echo node))

# Go: the standard library only, built offline; the build cache stays in build/.
PEERS_GO_ENV := GOCACHE=$(CURDIR)/build/go/cache GOPATH=$(CURDIR)/build/go/path \
                GOFLAGS=-mod=mod GOPROXY=off GO111MODULE=on CGO_ENABLED=0
$(BIN)/echo-go $(BIN)/fetch-go: $(BIN)/%-go: $(shell find peers/go -name "*.go" 2>/dev/null) peers/go/go.mod
	@mkdir -p $(dir $@)
	cd peers/go && $(PEERS_GO_ENV) go build -trimpath -o $(abspath $@) ./$*

# tokio: Rust, built by Debian's cargo and rustc (/usr/bin/cargo and, through
# RUSTC, /usr/bin/rustc, both named: a rustup install first on PATH would
# reach for crates.io, and cargo runs the first rustc on PATH) from Debian's crates
# (/usr/share/cargo/registry, through peers/tokio/cargo-config.toml), offline;
# CARGO_HOME, the build and its Cargo.lock stay out of the tree's sources
# (build/tokio/; the lock file is ignored: it names the versions Debian has).
# One cargo run builds the three programs (tasks-tokio is bench-tasks' kind).
PEERS_TOKIO_ENV := CARGO_HOME=$(CURDIR)/build/tokio/home CARGO_TARGET_DIR=$(CURDIR)/build/tokio/target \
                   RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc
PEERS_TOKIO_SRC := $(shell find peers/tokio/src -name "*.rs" 2>/dev/null) peers/tokio/Cargo.toml peers/tokio/cargo-config.toml
build/tokio/built: $(PEERS_TOKIO_SRC)
	@mkdir -p build/tokio/home
	@cp peers/tokio/cargo-config.toml build/tokio/home/config.toml
	cd peers/tokio && $(PEERS_TOKIO_ENV) /usr/bin/cargo build --release --offline --quiet
	@touch $@
$(BIN)/echo-tokio $(BIN)/fetch-tokio $(BIN)/tasks-tokio: $(BIN)/%-tokio: build/tokio/built
	@mkdir -p $(dir $@)
	cp build/tokio/target/release/$* $@

# libuv: C like the models, linked with Debian's libuv and models/common
# (flags, the ready line's format, the HTTP codec, the fetchers' summary).
$(BIN)/echo-libuv $(BIN)/fetch-libuv: $(BIN)/%-libuv: peers/libuv/%.c $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $$(pkg-config --cflags libuv) -o $@ $< $(LIBCOMMON) $$(pkg-config --libs libuv) $(LDLIBS_ALL)
