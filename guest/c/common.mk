# SPDX-License-Identifier: MIT
# The rules both architectures' Makefiles share. Each sets CC and ARCH_CFLAGS first.
#
#   make                           the examples (hello paging smp), at OPT (default -O2)
#   make image SRC=k.c OUT=k.elf   any one-file kernel with the same start-up code and library (LDEXTRA= more link options)
OPT     ?= -O2
CFLAGS  := -ffreestanding -nostdlib -mgeneral-regs-only -fno-pic $(ARCH_CFLAGS) \
           -fno-stack-protector -fno-asynchronous-unwind-tables -fno-tree-loop-distribute-patterns \
           -std=gnu11 -Wall -I../include $(OPT)
# libgcc after the library: lib/libgcc-gpr.c replaces the routines whose Debian builds use vector registers.
LDFLAGS := -static -no-pie -Wl,-T,link.ld -Wl,--build-id=none -Wl,-z,noexecstack -Wl,-z,max-page-size=4096 \
           -Wl,--no-warn-rwx-segments
LIB     := arch.c ../lib/console.c ../lib/string.c ../lib/libgcc-gpr.c
KERNELS := hello paging smp

all: $(KERNELS:%=%.elf)

%.elf: start.S %.c $(LIB) link.ld ../include/*.h
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ start.S $*.c $(LIB) -lgcc

# LDEXTRA: link options of one image (guest/x86_64/sharing places a section with it).
image:
	$(CC) $(CFLAGS) $(LDFLAGS) $(LDEXTRA) -o $(OUT) start.S $(SRC) $(LIB) -lgcc

clean:
	rm -f *.elf

.PHONY: all clean image
