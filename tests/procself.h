/* procself.h — what the C unit tests read about their own process from
 * /proc/self: how many mappings it has, how much of it is resident. */
#ifndef PROCSELF_H
#define PROCSELF_H

#include <stdio.h>
#include <unistd.h>

/* Mappings of this process (lines of /proc/self/maps), -1 if unknown. */
static inline long procself_maps(void)
{
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f)
        return -1;
    long n = 0;
    int ch;
    while ((ch = fgetc(f)) != EOF)
        n += ch == '\n';
    fclose(f);
    return n;
}

/* Resident memory of this process in KiB (/proc/self/statm), -1 if unknown. */
static inline long procself_rss_kib(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long size, res = -1;
    if (!f)
        return -1;
    if (fscanf(f, "%ld %ld", &size, &res) != 2)
        res = -1;
    fclose(f);
    return res < 0 ? -1 : res * (sysconf(_SC_PAGESIZE) / 1024);
}

#endif
