// SPDX-License-Identifier: GPL-2.0-only
/* SIP end to end, the first message from the core (see fuzz_sip.h). */
#define FUZZ_FIRST_FROM_CORE 1
#include "fuzz_sip.h"
