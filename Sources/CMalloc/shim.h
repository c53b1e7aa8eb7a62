// glibc's allocator controls (malloc_trim), which the Glibc module does not export.
#if defined(__linux__)
#include <malloc.h>
#endif
