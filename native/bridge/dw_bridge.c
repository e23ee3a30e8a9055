/* SPDX-License-Identifier: Apache-2.0 */
/* Placeholder until the kernel bridge lands: reports the ABI version only. */
#include "dw_event.h"

int dw_abi_version(void)
{
	return DW_ABI_VERSION;
}
