/*
 * windows.h — lets unmodified Win32 sources that use the memory API compile
 * against winmem.  Put include/compat first on the include path
 * (cc -Iinclude/compat -Iinclude ...).  Everything comes from winmem.h; this
 * file only adds the spellings that the SDK headers give.
 */
#ifndef WINMEM_COMPAT_WINDOWS_H
#define WINMEM_COMPAT_WINDOWS_H
#include <winmem.h>
#endif
