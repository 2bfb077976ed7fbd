// SPDX-License-Identifier: MIT
//
// Random C functions on x86_64 against the host (and QEMU): see random-c-suite.ts.

import { randomCSuite } from "./random-c-suite.ts";

randomCSuite("x86_64");
