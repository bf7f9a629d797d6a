/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Numbers on ckpt's command line are decimal or 0x hex, never octal (strtol's
 * base 0 would read 010 as 8): the base to pass to strtol() and friends for S,
 * which may start with blanks and a sign.
 */
static inline int ck_num_base(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == '-' || *s == '+')
		s++;
	return s[0] == '0' && (s[1] == 'x' || s[1] == 'X') ? 16 : 10;
}
