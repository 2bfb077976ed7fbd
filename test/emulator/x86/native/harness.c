// SPDX-License-Identifier: MIT
//
// Runs x86-64 instruction sequences on the host processor for the
// differential test of the interpreter (differential.test.ts builds this
// with gcc and speaks to it through stdin and stdout; native.ts has the
// TypeScript side of the format).
//
// The code of every case sits at the address the interpreter runs it at, and
// so does the scratch memory its memory operands and its stack use, so that
// RIP-relative operands and absolute addresses mean the same on both sides.
// The sequence is entered with all 16 GPRs and the arithmetic flags and DF
// loaded (run_case saves the harness's RSP first and keeps nothing in a
// register), and it ends with HLT, exactly as the interpreter runs it. HLT
// at CPL 3 raises #GP, which Linux delivers as SIGSEGV: the handler, on its
// own stack, takes the registers from the signal frame and resumes the
// harness. Any other signal (#DE from a division that overflows, a fault the
// generator did not mean) is reported with its vector and the registers at
// the faulting instruction, which is what the interpreter must show too.
//
// Input (little-endian):
//   u32 magic "SDX1", u32 cases, u64 code base, u64 code length,
//   u64 scratch base, u64 scratch length (a multiple of 8), the code bytes,
//   then per case: u64 gpr[16] (RAX..R15 in register-number order),
//   u64 rflags, u64 rip, u32 scratch seed, u32 0.
// Output per case:
//   u64 gpr[16], u64 rflags, u64 rip (after the HLT, or of the faulting
//   instruction), u32 signal (0 after HLT), u32 vector, u32 n, u32 0, then n
//   pairs u64 offset, u64 value: the 8-byte words of scratch memory that
//   changed, in address order.

#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

/** The state run_case loads (entry) and the handler fills (exit). Globals: the assembly below names them. */
uint64_t harness_entry_gpr[16];
uint64_t harness_entry_rflags;
uint64_t harness_entry_rip;
uint64_t harness_saved_rsp;

static uint64_t exit_gpr[16];
static uint64_t exit_rflags;
static uint64_t exit_rip;
static uint32_t exit_signal;
static uint32_t exit_vector;
static volatile int in_case;

static uint8_t *code_base;
static uint64_t code_length;

void harness_run_case(void);
extern char harness_resume[];

// Save the callee-saved registers and RSP, load RFLAGS (on the harness's
// stack), then every GPR from memory, RSP last, and jump to the case.
// The handler comes back at harness_resume with RSP restored.
__asm__(
    ".text\n"
    ".globl harness_run_case\n"
    ".type harness_run_case, @function\n"
    "harness_run_case:\n"
    "  push %rbx\n  push %rbp\n  push %r12\n  push %r13\n  push %r14\n  push %r15\n"
    "  mov %rsp, harness_saved_rsp(%rip)\n"
    "  pushq harness_entry_rflags(%rip)\n"
    "  popfq\n"
    "  mov harness_entry_gpr+0(%rip), %rax\n"
    "  mov harness_entry_gpr+8(%rip), %rcx\n"
    "  mov harness_entry_gpr+16(%rip), %rdx\n"
    "  mov harness_entry_gpr+24(%rip), %rbx\n"
    "  mov harness_entry_gpr+40(%rip), %rbp\n"
    "  mov harness_entry_gpr+48(%rip), %rsi\n"
    "  mov harness_entry_gpr+56(%rip), %rdi\n"
    "  mov harness_entry_gpr+64(%rip), %r8\n"
    "  mov harness_entry_gpr+72(%rip), %r9\n"
    "  mov harness_entry_gpr+80(%rip), %r10\n"
    "  mov harness_entry_gpr+88(%rip), %r11\n"
    "  mov harness_entry_gpr+96(%rip), %r12\n"
    "  mov harness_entry_gpr+104(%rip), %r13\n"
    "  mov harness_entry_gpr+112(%rip), %r14\n"
    "  mov harness_entry_gpr+120(%rip), %r15\n"
    "  mov harness_entry_gpr+32(%rip), %rsp\n"
    "  jmp *harness_entry_rip(%rip)\n"
    ".globl harness_resume\n"
    "harness_resume:\n"
    "  mov harness_saved_rsp(%rip), %rsp\n"
    "  pop %r15\n  pop %r14\n  pop %r13\n  pop %r12\n  pop %rbp\n  pop %rbx\n"
    "  cld\n"
    "  ret\n"
    ".size harness_run_case, .-harness_run_case\n");

/** ucontext's register numbers in x86 register-number order. */
static const int GREG_OF_GPR[16] = {
    REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP, REG_RSI, REG_RDI,
    REG_R8,  REG_R9,  REG_R10, REG_R11, REG_R12, REG_R13, REG_R14, REG_R15,
};

static void die(const char *message) {
  fprintf(stderr, "harness: %s\n", message);
  exit(2);
}

static void on_signal(int sig, siginfo_t *info, void *context) {
  (void)info;
  ucontext_t *uc = context;
  greg_t *g = uc->uc_mcontext.gregs;
  uint64_t rip = (uint64_t)g[REG_RIP];
  if (!in_case || rip < (uint64_t)code_base || rip >= (uint64_t)code_base + code_length) {
    // A fault in the harness itself: nothing sensible to report.
    static const char message[] = "harness: signal outside the test code\n";
    ssize_t ignored = write(2, message, sizeof message - 1);
    (void)ignored;
    _exit(3);
  }
  for (int i = 0; i < 16; i++) exit_gpr[i] = (uint64_t)g[GREG_OF_GPR[i]];
  exit_rflags = (uint64_t)g[REG_EFL];
  exit_vector = (uint32_t)g[REG_TRAPNO];
  // HLT at CPL 3 is #GP(0): that is the normal end, with RIP after the HLT as the interpreter leaves it.
  if (sig == SIGSEGV && exit_vector == 13 && *(const uint8_t *)rip == 0xF4) {
    exit_signal = 0;
    exit_rip = rip + 1;
  } else {
    exit_signal = (uint32_t)sig;
    exit_rip = rip;
  }
  in_case = 0;
  g[REG_RIP] = (greg_t)harness_resume;
  g[REG_RSP] = (greg_t)harness_saved_rsp;
  // Back in C: DF, TF and AC clear, as the ABI expects.
  g[REG_EFL] &= ~(greg_t)((1 << 10) | (1 << 8) | (1 << 18));
}

/** mulberry32: the scratch memory's contents from a case's seed (native.ts has the same). */
static uint32_t mulberry32(uint32_t *state) {
  uint32_t a = *state += 0x6D2B79F5u;
  uint32_t t = (a ^ (a >> 15)) * (a | 1u);
  t = (t + (t ^ (t >> 7)) * (t | 61u)) ^ t;
  return t ^ (t >> 14);
}

static void read_exact(void *to, size_t n) {
  if (n && fread(to, 1, n, stdin) != n) die("short input");
}

static void *map_fixed(uint64_t address, uint64_t length, int prot) {
  void *p = mmap((void *)address, length, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (p == MAP_FAILED || p != (void *)address) die("cannot map a fixed address (is it taken?)");
  return p;
}

int main(void) {
  struct {
    uint32_t magic, cases;
    uint64_t code_base, code_length, scratch_base, scratch_length;
  } header;
  read_exact(&header, sizeof header);
  if (header.magic != 0x31584453u) die("bad magic");
  if (header.scratch_length % 8) die("scratch length must be a multiple of 8");

  uint64_t code_map = (header.code_length + 4095) & ~4095ull;
  code_base = map_fixed(header.code_base, code_map, PROT_READ | PROT_WRITE);
  code_length = header.code_length;
  read_exact(code_base, header.code_length);
  if (mprotect(code_base, code_map, PROT_READ | PROT_EXEC)) die("mprotect");
  uint64_t *scratch = map_fixed(header.scratch_base, (header.scratch_length + 4095) & ~4095ull, PROT_READ | PROT_WRITE);
  size_t words = header.scratch_length / 8;
  uint64_t *initial = malloc(header.scratch_length);
  if (!initial) die("out of memory");

  static uint8_t alt_stack[1 << 16];
  stack_t ss = {.ss_sp = alt_stack, .ss_size = sizeof alt_stack, .ss_flags = 0};
  if (sigaltstack(&ss, 0)) die("sigaltstack");
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_signal;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
  sigemptyset(&sa.sa_mask);
  const int signals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP};
  for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++) {
    if (sigaction(signals[i], &sa, 0)) die("sigaction");
  }

  static char out_buffer[1 << 20];
  setvbuf(stdout, out_buffer, _IOFBF, sizeof out_buffer);
  for (uint32_t c = 0; c < header.cases; c++) {
    struct {
      uint64_t gpr[16], rflags, rip;
      uint32_t seed, pad;
    } in;
    read_exact(&in, sizeof in);
    uint32_t s = in.seed;
    for (size_t i = 0; i < words; i++) {
      uint64_t lo = mulberry32(&s);
      uint64_t hi = mulberry32(&s);
      initial[i] = lo | (hi << 32);
    }
    memcpy(scratch, initial, header.scratch_length);
    memcpy(harness_entry_gpr, in.gpr, sizeof in.gpr);
    harness_entry_rflags = in.rflags;
    harness_entry_rip = in.rip;
    in_case = 1;
    harness_run_case();

    struct {
      uint64_t gpr[16], rflags, rip;
      uint32_t signal, vector, changed, pad;
    } out;
    memcpy(out.gpr, exit_gpr, sizeof out.gpr);
    out.rflags = exit_rflags;
    out.rip = exit_rip;
    out.signal = exit_signal;
    out.vector = exit_vector;
    out.changed = 0;
    out.pad = 0;
    for (size_t i = 0; i < words; i++) out.changed += scratch[i] != initial[i];
    fwrite(&out, sizeof out, 1, stdout);
    for (size_t i = 0; i < words; i++) {
      if (scratch[i] == initial[i]) continue;
      uint64_t pair[2] = {i * 8, scratch[i]};
      fwrite(pair, sizeof pair, 1, stdout);
    }
  }
  if (fflush(stdout)) die("write failed");
  return 0;
}
