// SPDX-License-Identifier: MIT
//
// Random C functions on aarch64 against the host (and QEMU): see random-c-suite.ts.

import { randomCSuite } from "./random-c-suite.ts";

randomCSuite("aarch64");
