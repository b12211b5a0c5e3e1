/*
 * display.h: text that names files, written so that a terminal shows
 * the names and does nothing else with them.
 */
#ifndef CSTOW_DISPLAY_H
#define CSTOW_DISPLAY_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

size_t	 utf8_len(const unsigned char *);
void	 display_fputs(const char *, FILE *);
int	 display_vprintf(FILE *, const char *, va_list)
	    __attribute__((format(printf, 2, 0)));
int	 display_printf(FILE *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));

#endif /* CSTOW_DISPLAY_H */
