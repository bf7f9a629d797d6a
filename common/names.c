// SPDX-License-Identifier: MIT
#include <string.h>

#include "common/names.h"

/* see names.h */
const char *ck_name_of(const char *const *names, size_t n, int i)
{
	if (i < 0 || (size_t)i >= n || !names[i])
		return "?";
	return names[i];
}

/* see names.h */
int ck_name_index(const char *const *names, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (names[i] && !strcmp(names[i], name))
			return (int)i;
	return -1;
}
