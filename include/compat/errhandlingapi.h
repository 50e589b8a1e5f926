/* errhandlingapi.h — part of the SDK spelling; everything is in <windows.h>. */
#include <windows.h>
