/* sysload.c — CPU taken by the rest of the machine; see sysload.h. */
#include "sysload.h"

#include <stdio.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static double sysload_tv(struct timeval tv)
{
    return (double)tv.tv_sec + tv.tv_usec / 1e6;
}

void sysload_mark(struct sysload_mark *m)
{
    unsigned long long user = 0, nice = 0, sys = 0;
    FILE *f = fopen("/proc/stat", "r");
    m->ok = f && fscanf(f, "cpu %llu %llu %llu", &user, &nice, &sys) == 3;
    if (f)
        fclose(f);
    long hz = sysconf(_SC_CLK_TCK);
    m->busy_s = (double)(user + nice + sys) / (double)(hz > 0 ? hz : 100);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    m->self_s = sysload_tv(ru.ru_utime) + sysload_tv(ru.ru_stime);
    getrusage(RUSAGE_CHILDREN, &ru);
    m->children_s = sysload_tv(ru.ru_utime) + sysload_tv(ru.ru_stime);
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    m->wall_s = (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

double sysload_other_s(const struct sysload_mark *from, const struct sysload_mark *to)
{
    if (!from->ok || !to->ok)
        return -1;
    double other = (to->busy_s - from->busy_s) - (to->self_s - from->self_s) -
                   (to->children_s - from->children_s);
    return other > 0 ? other : 0;
}
