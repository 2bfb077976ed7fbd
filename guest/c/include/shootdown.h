/* SPDX-License-Identifier: MIT */
/*
 * shootdown's boot-information block and devices, for guests written in C
 * (README.md, "Boot protocol (x86-64)" and "Boot protocol (AArch64)"), so
 * that a kernel need not retype the tables.
 */
#ifndef SHOOTDOWN_H
#define SHOOTDOWN_H

#include <stdint.h>

/* The boot-information block: at 0x1000 on x86-64 (RSI at entry), at the
 * address in x0 on AArch64 (the last 8 KiB of RAM). QEMU passes none. */
struct shootdown_boot_info {
	uint64_t magic;        /* SHOOTDOWN_BOOT_MAGIC */
	uint32_t version;      /* 1 */
	uint32_t cpu_count;
	uint64_t ram_size;     /* bytes */
	uint64_t cmdline;      /* physical address of the NUL-terminated command line */
	uint32_t cmdline_len;  /* without the NUL */
	uint32_t reserved;
};

#define SHOOTDOWN_BOOT_MAGIC 0x544F4F424E444853ull /* "SHDNBOOT" */

#if defined(__x86_64__)
/* x86-64: the loader's reserved area and the I/O ports. */
#define SHOOTDOWN_BOOT_INFO   0x1000ul
#define SHOOTDOWN_CMDLINE     0x1100ul
#define SHOOTDOWN_GDT         0x2000ul
#define SHOOTDOWN_BOOT_PML4   0x3000ul
#define SHOOTDOWN_COM1        0x3F8    /* THR: a byte written is printed */
#define SHOOTDOWN_COM1_LSR    0x3FD    /* always 0x60: the transmitter is empty */
#define SHOOTDOWN_DEBUG_EXIT  0xF4     /* the value written ends the run and is its result */
/* x2APIC MSRs (SDM Vol.3A 11.12). */
#define MSR_X2APIC_APICID     0x802
#define MSR_X2APIC_EOI        0x80B
#define MSR_X2APIC_SIVR       0x80F
#define MSR_X2APIC_ICR        0x830
#define MSR_FS_BASE           0xC0000100u
#define MSR_GS_BASE           0xC0000101u
#define MSR_KERNEL_GS_BASE    0xC0000102u
#endif

#if defined(__aarch64__)
/* AArch64: QEMU virt's addresses, which shootdown's board shares. */
#define SHOOTDOWN_RAM_BASE    0x40000000ul
#define SHOOTDOWN_PL011       0x09000000ul /* UARTDR at +0, UARTFR at +0x18 */
#define SHOOTDOWN_GICD        0x08000000ul
#define SHOOTDOWN_GICR        0x080A0000ul /* 128 KiB per CPU */
#define SHOOTDOWN_GICR_STRIDE 0x20000ul
/* PSCI 1.1 over HVC #0. */
#define PSCI_VERSION          0x84000000u
#define PSCI_CPU_OFF          0x84000002u
#define PSCI_CPU_ON           0xC4000003u
#define PSCI_AFFINITY_INFO    0xC4000004u
#define PSCI_SYSTEM_OFF       0x84000008u /* ends the run with status 0 */
#define PSCI_SYSTEM_RESET     0x84000009u /* ends the run with status 1 */
#endif

#endif
