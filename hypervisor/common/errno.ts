// SPDX-License-Identifier: MIT
//
// The errno values Xen returns to guests (xen/include/public/errno.h). A
// hypercall returns the negated value in RAX.

export const EPERM = 1;
export const ENOENT = 2;
export const ESRCH = 3;
export const ENXIO = 6;
export const E2BIG = 7;
export const ENOMEM = 12;
export const EACCES = 13;
export const EFAULT = 14;
export const EBUSY = 16;
export const EEXIST = 17;
export const EINVAL = 22;
export const ENOSYS = 38;
export const EOPNOTSUPP = 95;

const NAMES: Record<number, string> = {
  [EPERM]: "EPERM", [ENOENT]: "ENOENT", [ESRCH]: "ESRCH", [ENXIO]: "ENXIO", [E2BIG]: "E2BIG", [ENOMEM]: "ENOMEM", [EACCES]: "EACCES",
  [EFAULT]: "EFAULT", [EBUSY]: "EBUSY", [EEXIST]: "EEXIST", [EINVAL]: "EINVAL", [ENOSYS]: "ENOSYS", [EOPNOTSUPP]: "EOPNOTSUPP",
};

/** "-EINVAL" for -22, "0" for 0, the number itself for other non-negative results. */
export function resultName(rc: number): string {
  if (rc >= 0) return String(rc);
  return `-${NAMES[-rc] ?? String(-rc)}`;
}
