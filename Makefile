# rrm — Makefile (STYLE.md §9). Targets: all test asan ubsan tsan test-asan fuzz bench golden clean
#   make            release build in build/ (-O2 -g)
#   make test       unit + corrupt + golden tests (tests/run.sh prints "N passed, N failed")
#   make asan       ASan+UBSan build in build-asan/;  make test-asan runs the tests with it
# Each module is its own archive, and a module's unit tests link only the modules it depends on,
# so the dependency order of STYLE.md §1 is enforced by the linker.

MODE ?= release
ifeq ($(MODE),release)
BUILD ?= build
OPT := -O2 -g
else ifeq ($(MODE),asan)
BUILD ?= build-asan
OPT := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined -DRRM_DEBUG
else ifeq ($(MODE),tsan)
BUILD ?= build-tsan
OPT := -O1 -g -fsanitize=thread -DRRM_DEBUG
else
$(error MODE must be release, asan or tsan)
endif

CC ?= cc
WERROR ?=
ifeq ($(CI),true)
WERROR := -Werror
endif
CFLAGS ?=
CFLAGS += -std=c11 -Wall -Wextra -Wshadow -Wstrict-prototypes -Wvla $(WERROR) $(OPT) \
          -D_POSIX_C_SOURCE=200809L -Iinclude -Isrc -MMD -MP -pthread
LDFLAGS += $(filter -fsanitize=%,$(OPT)) -pthread
LDLIBS := -ljansson -lpcre2-8 -lutf8proc -lm

# Per-ISA kernel files get their own flags; nothing else is built for a specific CPU.
ISA_avx2 := -mavx2 -mfma -mf16c
ISA_avx512 := -mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx512bf16 -mavx512vnni -mfma -mf16c
# Files under src/kernels/<isa>/ get ISA_<isa>, and no FP contraction (the lane order is the spec).
$(BUILD)/obj/src/kernels/avx2/%.o: CFLAGS += $(ISA_avx2) -ffp-contract=off
$(BUILD)/obj/src/kernels/avx512/%.o: CFLAGS += $(ISA_avx512) -ffp-contract=off

MODULES := core formats kernels kvcache sampler model tokenizer template engine judge rank eval server cli
# Link order for each module's tests (dependents first).
DEPS_core := core
DEPS_formats := formats core
DEPS_kernels := kernels core
DEPS_kvcache := kvcache core
DEPS_sampler := sampler core
DEPS_model := model kvcache kernels formats core
DEPS_tokenizer := tokenizer formats core
DEPS_template := template tokenizer formats core
DEPS_engine := engine model kvcache kernels sampler template tokenizer formats core
DEPS_judge := judge engine model kvcache kernels sampler template tokenizer formats core
DEPS_rank := rank judge engine model kvcache kernels sampler template tokenizer formats core
DEPS_eval := eval rank judge engine model kvcache kernels sampler template tokenizer formats core
DEPS_server := server eval rank judge engine model kvcache kernels sampler template tokenizer formats core
DEPS_cli := cli $(DEPS_server)
ALL_LIBS := $(DEPS_cli)

srcs_of = $(filter-out %/main.c,$(filter-out src/$(1)/test_%.c,$(wildcard src/$(1)/*.c src/$(1)/*/*.c)))
obj_of = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))
lib_of = $(foreach m,$(1),$(BUILD)/lib/librrm_$(m).a)

$(foreach m,$(MODULES),$(eval OBJS_$(m) := $(call obj_of,$(call srcs_of,$(m)))))

UNIT_SRCS := $(wildcard $(foreach m,$(MODULES),src/$(m)/test_*.c))
UNIT_BINS := $(patsubst src/%.c,$(BUILD)/test/%,$(UNIT_SRCS))
INTEG_SRCS := $(wildcard tests/*/test_*.c tests/test_*.c)
INTEG_BINS := $(patsubst tests/%.c,$(BUILD)/test/tests/%,$(INTEG_SRCS))
TOOL_SRCS := $(wildcard tools/*.c)
TOOL_BINS := $(patsubst tools/%.c,$(BUILD)/bin/%,$(TOOL_SRCS))
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)

.PHONY: libs all test asan ubsan tsan test-asan test-tsan fuzz bench golden clean demo
all: $(BUILD)/bin/rrm $(TOOL_BINS) $(UNIT_BINS) $(INTEG_BINS)
libs: $(call lib_of,$(ALL_LIBS))
	@echo $(call lib_of,$(ALL_LIBS)) > $(BUILD)/lib/order.txt

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(ISA_$(patsubst x86_%,%,$(basename $(notdir $<)))) -c $< -o $@

# One archive per module.
define module_lib
$(BUILD)/lib/librrm_$(1).a: $$(OBJS_$(1))
	@mkdir -p $$(dir $$@)
	@rm -f $$@
	$$(AR) rcs $$@ $$^ $$(if $$^,,$$(BUILD)/obj/empty.o)
endef
$(foreach m,$(MODULES),$(eval $(call module_lib,$(m))))

$(BUILD)/obj/empty.o:
	@mkdir -p $(dir $@)
	echo 'typedef int rrm_empty_unit;' | $(CC) -x c -c - -o $@
$(foreach m,$(MODULES),$(if $(OBJS_$(m)),,$(eval $(BUILD)/lib/librrm_$(m).a: $(BUILD)/obj/empty.o)))

# Unit tests: src/<mod>/test_x.c links the archives of <mod>'s dependencies only.
define unit_test
$(BUILD)/test/$(1)/%: $(BUILD)/obj/src/$(1)/%.o $$(call lib_of,$$(DEPS_$(1)))
	@mkdir -p $$(dir $$@)
	$$(CC) $$(LDFLAGS) $$^ $$(LDLIBS) -o $$@
endef
$(foreach m,$(MODULES),$(eval $(call unit_test,$(m))))

$(BUILD)/test/tests/%: $(BUILD)/obj/tests/%.o $(call lib_of,$(ALL_LIBS))
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/bin/rrm: $(call obj_of,src/cli/main.c) $(call lib_of,$(ALL_LIBS))
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/bin/%: $(BUILD)/obj/tools/%.o $(call lib_of,$(ALL_LIBS))
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

# bench/*.c: timing programs (bench/kernels.c -> build/bin/bench_kernels), built with `all`.
BENCH_BINS := $(patsubst bench/%.c,$(BUILD)/bin/bench_%,$(wildcard bench/*.c))
all: $(BENCH_BINS)
$(BUILD)/bin/bench_%: $(BUILD)/obj/bench/%.o $(call lib_of,$(ALL_LIBS))
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

test: all
	BUILD=$(BUILD) sh tests/run.sh

asan:
	$(MAKE) MODE=asan all
ubsan: asan
tsan:
	$(MAKE) MODE=tsan all
test-asan:
	$(MAKE) MODE=asan all
	BUILD=build-asan RRM_TEST_REDUCED=1 sh tests/run.sh
test-tsan:
	$(MAKE) MODE=tsan all
	BUILD=build-tsan RRM_TEST_ONLY=threads sh tests/run.sh

# libFuzzer targets (clang), each run for FUZZ_SECONDS.
FUZZ_SECONDS ?= 20
fuzz:
	BUILD=build-fuzz FUZZ_SECONDS=$(FUZZ_SECONDS) sh tests/fuzz/run.sh

golden: all
	BUILD=$(BUILD) RRM_TEST_ONLY=golden sh tests/run.sh

bench: all
	sh bench/run.sh

demo: all
	sh tools/demo.sh

clean:
	rm -rf build build-asan build-tsan build-fuzz

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
