/* SPDX-License-Identifier: MIT */
/*
 * The driver (driver=dom0): domain 0 does not run the workload; its vCPUs
 * nominate and share pages of the other domains' regions with Xen's
 * XENMEM_sharing_op (xen/include/public/memory.h), as a deduplicating
 * toolstack would. vCPUs 0 and 1 take the same seeded choices and meet
 * before each, then share in opposite directions at once (A's page into B
 * and B's into A: the two page locks taken in either order, mechanisms
 * §5.4); the other vCPUs choose on their own.
 *
 * XENMEM_sharing_op shares whatever the two frames hold (Xen compares
 * nothing), so the driver shares only pages that hold the same bytes in
 * every domain at every moment: the identical pages, whose generation stays
 * 0 under driver=dom0 and which every domain has from its image.
 * targets=any also picks distinct pages, and the domains must then see
 * each other's data: a check that the shares really happen.
 */
#include "sharing.h"

/* Hypercall numbers and XENMEM_sharing_op's sub-ops (xen/include/public/xen.h, memory.h). */
#define __HYPERVISOR_memory_op          12
#define XENMEM_sharing_op               22
#define XENMEM_sharing_op_nominate_gfn  0
#define XENMEM_sharing_op_share         2
#define XENMEM_SHARING_OP_S_HANDLE_INVALID (-10)
#define XENMEM_SHARING_OP_C_HANDLE_INVALID (-9)

/* Linux's errno values, which Xen's public ABI uses (xen/include/public/errno.h). */
#define E2BIG  7
#define ENOMEM 12
#define EEXIST 17
#define EINVAL 22
#define ENOSYS 38

/* struct xen_mem_sharing_op, 48 bytes (public/memory.h; uint64_aligned_t puts the union at 8). */
struct xen_mem_sharing_op {
	uint8_t op;
	uint16_t domain;
	union {
		struct {
			uint64_t gfn;
			uint64_t handle; /* OUT */
		} nominate;
		struct {
			uint64_t source_gfn, source_handle, client_gfn, client_handle;
			uint16_t client_domain;
		} share;
	} __attribute__((aligned(8))) u;
};
_Static_assert(sizeof(struct xen_mem_sharing_op) == 48, "xen_mem_sharing_op is 48 bytes");
_Static_assert(__builtin_offsetof(struct xen_mem_sharing_op, u) == 8, "its union is at offset 8");

/* One argument block per vCPU, so that no two calls share one; 64-byte aligned, so none crosses a page. */
static struct xen_mem_sharing_op sharing_arg[MAX_CPUS] __attribute__((aligned(64)));

/* The results the driver counts, by kind; anything else ends the run. */
enum { R_OK, R_EINVAL, R_C_HANDLE, R_S_HANDLE, R_ENOMEM, R_EEXIST, R_E2BIG, R_KINDS };
enum { OP_NOMINATE, OP_SHARE };
static const char *const op_names[] = { "nominate_gfn", "share" };

/* HYPERVISOR_memory_op(XENMEM_sharing_op, arg): an HVM guest's VMCALL, the result in RAX (a negative errno on failure). */
static long memory_op(unsigned cmd, void *arg)
{
	long rax = __HYPERVISOR_memory_op;
	uint64_t rdi = cmd, rsi = (uint64_t)(uintptr_t)arg;
	__asm__ volatile("vmcall" : "+a"(rax), "+D"(rdi), "+S"(rsi) : : "memory", "cc", "rcx", "rdx", "r8", "r9", "r10",
			 "r11");
	return rax;
}

/* Leaf base+4 gave this domain its id: the only way to tell domain 0 from the others (main.c). */
int sharing_op_present(void)
{
	return cfg.xen && cfg.domid_present;
}

/* Counts an expected result; ends the run on any other. */
static int classify(unsigned cpu, unsigned op, long rc, const struct xen_mem_sharing_op *a)
{
	int kind;
	switch (rc) {
	case 0: kind = R_OK; break;
	case -EINVAL: kind = R_EINVAL; break;
	/* Only share takes handles: from nominate_gfn these are as unexpected as any other value. */
	case XENMEM_SHARING_OP_C_HANDLE_INVALID: kind = op == OP_SHARE ? R_C_HANDLE : -1; break;
	case XENMEM_SHARING_OP_S_HANDLE_INVALID: kind = op == OP_SHARE ? R_S_HANDLE : -1; break;
	case -ENOMEM: kind = R_ENOMEM; break;
	case -EEXIST: kind = R_EEXIST; break;
	case -E2BIG: kind = R_E2BIG; break;
	default:
		kind = -1;
	}
	if (kind < 0) {
		if (rc == -ENOSYS)
			fatal(EXIT_NO_INTERFACE, "sharing: dom%u vcpu%u: XENMEM_sharing_op %s returned -ENOSYS: the hypervisor has no memory sharing\n",
			      cfg.domid, cpu, op_names[op]);
		if (op == OP_NOMINATE)
			fatal(EXIT_CORRUPTION, "sharing: dom%u vcpu%u: XENMEM_sharing_op nominate_gfn d%u gfn %lx returned %ld, not an expected result\n",
			      cfg.domid, cpu, a->domain, a->u.nominate.gfn, rc);
		fatal(EXIT_CORRUPTION, "sharing: dom%u vcpu%u: XENMEM_sharing_op share d%u gfn %lx handle %lx into d%u gfn %lx handle %lx returned %ld, not an expected result\n",
		      cfg.domid, cpu, a->domain, a->u.share.source_gfn, a->u.share.source_handle, a->u.share.client_domain,
		      a->u.share.client_gfn, a->u.share.client_handle, rc);
	}
	stats[cpu].results[op][kind]++;
	return kind == R_OK;
}

static int nominate_gfn(unsigned cpu, unsigned domain, uint64_t gfn, uint64_t *handle)
{
	struct xen_mem_sharing_op *a = &sharing_arg[cpu];
	memset(a, 0, sizeof(*a));
	a->op = XENMEM_sharing_op_nominate_gfn;
	a->domain = (uint16_t)domain;
	a->u.nominate.gfn = gfn;
	int ok = classify(cpu, OP_NOMINATE, memory_op(XENMEM_sharing_op, a), a);
	*handle = a->u.nominate.handle;
	return ok;
}

static void share(unsigned cpu, unsigned source, uint64_t source_handle, unsigned client, uint64_t client_handle,
		  uint64_t gfn)
{
	struct xen_mem_sharing_op *a = &sharing_arg[cpu];
	memset(a, 0, sizeof(*a));
	a->op = XENMEM_sharing_op_share;
	a->domain = (uint16_t)source;
	a->u.share.source_gfn = gfn;
	a->u.share.source_handle = source_handle;
	a->u.share.client_gfn = gfn;
	a->u.share.client_handle = client_handle;
	a->u.share.client_domain = (uint16_t)client;
	classify(cpu, OP_SHARE, memory_op(XENMEM_sharing_op, a), a);
}

/* vCPUs 0 and 1 meet here before each share, so that their two calls overlap. */
static volatile uint32_t pair_arrivals;

void run_driver(unsigned cpu)
{
	int paired = cpu < 2 && cfg.ncpus >= 2;
	/* vCPUs 0 and 1 take the same choices; each other vCPU its own. */
	uint64_t prng = cfg.seed ^ (paired ? 0 : (uint64_t)cpu << 48);
	unsigned candidates = cfg.targets == TARGETS_IDENTICAL ? cfg.same : cfg.pages;
	for (unsigned i = 0; i < cfg.shares; i++) {
		if (paired)
			barrier(&pair_arrivals, 2 * (i + 1), 0, 2);
		uint64_t gfn = REGION_GFN + prng_below(&prng, candidates);
		/* Two different domains among 1..domains. */
		unsigned a = 1 + prng_below(&prng, cfg.domains);
		unsigned b = 1 + prng_below(&prng, cfg.domains - 1);
		if (b >= a)
			b++;
		unsigned source = cpu == 1 ? b : a, client = cpu == 1 ? a : b;
		uint64_t sh, ch;
		if (nominate_gfn(cpu, source, gfn, &sh) && nominate_gfn(cpu, client, gfn, &ch))
			share(cpu, source, sh, client, ch, gfn);
	}
}

void driver_summary(void)
{
	unsigned t[2][R_KINDS] = { { 0 } };
	for (unsigned c = 0; c < cfg.ncpus; c++)
		for (unsigned op = 0; op < 2; op++)
			for (unsigned k = 0; k < R_KINDS; k++)
				t[op][k] += stats[c].results[op][k];
	kprintf("sharing: dom%u driver vcpus=%u shares=%u domains=%u targets=%s seed=%lu: "
		"nominate ok=%u einval=%u eexist=%u e2big=%u enomem=%u; "
		"share ok=%u einval=%u s-handle-invalid=%u c-handle-invalid=%u eexist=%u e2big=%u enomem=%u\n",
		cfg.domid, cfg.ncpus, cfg.shares, cfg.domains, cfg.targets == TARGETS_IDENTICAL ? "identical" : "any",
		cfg.seed, t[0][R_OK], t[0][R_EINVAL], t[0][R_EEXIST], t[0][R_E2BIG], t[0][R_ENOMEM], t[1][R_OK],
		t[1][R_EINVAL], t[1][R_S_HANDLE], t[1][R_C_HANDLE], t[1][R_EEXIST], t[1][R_E2BIG], t[1][R_ENOMEM]);
}
