# Portico. `make` builds ./portico; `make test` runs unit, corpus replay and integration tests;
# `make asan` does the same under AddressSanitizer and UndefinedBehaviorSanitizer.
PKGS := hiredis libcjson openssl libnghttp2
CC ?= cc
WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
        -Wpointer-arith -Wwrite-strings -Wformat=2 -Wundef -Wvla \
        -Wno-unused-parameter -Wno-missing-field-initializers
OPT ?= -O2 -g
BUILD ?= build
# Third-party headers as -isystem: -Werror must never fire on code we don't own.
DEP_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null | sed 's/-I/-isystem /g')
DEP_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lev -lpthread -lm
PT_CFLAGS := -std=c11 -D_GNU_SOURCE $(OPT) $(WARN) -Iinclude -Ihub -Ibackends -MMD -MP $(DEP_CFLAGS) $(SAN) $(CFLAGS)
PT_LDFLAGS := $(SAN) $(LDFLAGS)

LIB_SRC := $(filter-out hub/main.c,$(wildcard hub/*.c hub/util/*.c backends/*.c))
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/unit/%)
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
REPLAY_BIN := $(FUZZ_SRC:tests/fuzz/fuzz_%.c=$(BUILD)/replay/replay_%)
PORTICO := $(if $(filter build,$(BUILD)),portico,$(BUILD)/portico)

.PHONY: all test unit replay integration asan valgrind fuzz bench lint format format-check install clean
all: $(PORTICO)

$(PORTICO): $(BUILD)/obj/hub/main.o $(BUILD)/libportico.a
	$(CC) $(PT_LDFLAGS) -o $@ $^ $(DEP_LIBS)

$(BUILD)/libportico.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC  $<"
	@$(CC) $(PT_CFLAGS) -c -o $@ $<

$(BUILD)/unit/%: $(BUILD)/obj/tests/unit/%.o $(BUILD)/libportico.a
	@mkdir -p $(dir $@)
	$(CC) $(PT_LDFLAGS) -o $@ $^ $(DEP_LIBS)

$(BUILD)/replay/replay_%: $(BUILD)/obj/tests/fuzz/fuzz_%.o $(BUILD)/obj/tests/fuzz/replay.o $(BUILD)/libportico.a
	@mkdir -p $(dir $@)
	$(CC) $(PT_LDFLAGS) -o $@ $^ $(DEP_LIBS)

test: unit replay integration

unit: $(UNIT_BIN)
	@test -n "$(UNIT_BIN)" || { echo "no unit tests found"; exit 1; }
	@fail=0; for t in $(UNIT_BIN); do $$t || fail=1; done; exit $$fail

replay: $(REPLAY_BIN)
	@fail=0; for t in $(REPLAY_BIN); do n=$${t##*/replay_}; $$t tests/fuzz/corpus/$$n || fail=1; done; exit $$fail

integration: $(PORTICO)
	cd tests/integration && { [ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund --silent; }
	cd tests/integration && PORTICO_BIN=$(abspath $(PORTICO)) node --test --test-concurrency=2 *.test.mjs

asan:
	PORTICO_TIME_FACTOR=3 $(MAKE) BUILD=build-asan OPT="-O1 -g -fno-omit-frame-pointer" \
	    SAN="-fsanitize=address,undefined -fno-sanitize-recover=all" test

# The unit tests, and the integration suites that are not about timing, under valgrind.
VALGRIND_SUITES ?= ws-routing management check channels accesslog cache
valgrind: all $(UNIT_BIN)
	@fail=0; for t in $(UNIT_BIN); do PORTICO_TIME_FACTOR=10 valgrind --quiet --error-exitcode=99 --leak-check=full $$t || fail=1; done; exit $$fail
	cd tests/integration && PORTICO_BIN=$(abspath tools/valgrind-portico.sh) PORTICO_TIME_FACTOR=5 \
	    node --test --test-concurrency=1 $(VALGRIND_SUITES:%=%.test.mjs)

# libFuzzer targets, each run for FUZZ_SECONDS (clang only). The library is compiled once with
# coverage instrumentation, then each target links against it.
FUZZ_SECONDS ?= 30
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -g -O1 -Iinclude -Ihub -Ibackends $(DEP_CFLAGS) \
               -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
FUZZ_OBJ := $(LIB_SRC:%.c=build-fuzz/obj/%.o)
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=build-fuzz/%)
.PRECIOUS: build-fuzz/obj/%.o

build-fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  FUZZ-CC  $<"
	@clang $(FUZZ_CFLAGS) -c -o $@ $<

build-fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_OBJ)
	@clang $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_OBJ) $(DEP_LIBS)

fuzz: $(FUZZ_BIN)
	@for t in $(FUZZ_BIN); do n=$${t##*/}; mkdir -p build-fuzz/corpus-$$n; \
	  $$t -max_total_time=$(FUZZ_SECONDS) build-fuzz/corpus-$$n tests/fuzz/corpus/$${n#fuzz_} \
	    2>build-fuzz/$$n.log || { tail -40 build-fuzz/$$n.log; exit 1; }; \
	  echo "$$n: $$(grep -Eo 'Done [0-9]+ runs in [0-9]+ second' build-fuzz/$$n.log)"; \
	done

bench: all
	$(MAKE) -C tests/bench run PORTICO=$(abspath portico)

# Loop code may not link blocking calls; these files run before the loops, on the reload
# thread, or on helper threads (resolve.c's lookups, static.c's file reads, tls.c's loading).
OFF_LOOP := main config config_api config_auth config_check config_cluster conf_walk listen resolve tls static
lint: all
	tools/check-blocking.sh $(filter-out $(foreach f,$(OFF_LOOP),%/$(f).o),$(LIB_OBJ))
	tools/check-sizes.sh $$(git ls-files 'hub/*.[ch]' 'backends/*.[ch]' 'include/*.h')
	cppcheck --quiet --error-exitcode=1 --std=c11 -Iinclude -Ihub --suppress=missingIncludeSystem \
	    --inline-suppr hub backends

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

format-check:
	clang-format --dry-run -Werror $$(git ls-files '*.c' '*.h')

PREFIX ?= /usr/local
install: all
	install -D -m 755 portico $(DESTDIR)$(PREFIX)/bin/portico

clean:
	rm -rf build build-asan build-fuzz portico

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
