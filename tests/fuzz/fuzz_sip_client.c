// SPDX-License-Identifier: GPL-2.0-only
/* SIP end to end, the first message from a client (see fuzz_sip.h). */
#define FUZZ_FIRST_FROM_CORE 0
#include "fuzz_sip.h"
