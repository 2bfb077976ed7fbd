// SPDX-License-Identifier: MIT
//
// What the descriptor fetches of every walker share (x86/paging/fetch.ts,
// arm/vmsa/fetch.ts): a read that finds no RAM returns 0, which every
// architecture's walk takes for an invalid (not-present) entry, and notes the
// abort here. The walker asks fetchAborted() on its path for invalid entries,
// and only there, so that the descriptor itself comes back as the fetch's
// result and stays in a register on the walk's critical path.

let aborted: bool = false;

/** A fetch found no RAM behind the entry's address: notes it, and returns the 0 the fetch returns. */
@inline export function fetchAbort(): u64 {
  aborted = true;
  return 0;
}

/** For an entry a fetch returned as 0: did it find no RAM (rather than an invalid entry)? Asking clears the answer. */
export function fetchAborted(): bool {
  const was = aborted;
  aborted = false;
  return was;
}
