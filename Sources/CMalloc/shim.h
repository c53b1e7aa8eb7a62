// glibc extras the Glibc module does not export: the allocator's controls (malloc_trim), and
// lowering one thread's scheduling priority (Linux keeps a nice value per thread).
#if defined(__linux__)
#include <malloc.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

// Sets the calling thread's nice value (0 normal, 19 lowest); returns 0 or -1 with errno.
static inline int musicstream_set_thread_nice(int value) {
    return setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), value);
}
#endif
