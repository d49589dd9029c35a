/* Compiled as C99 with -pedantic-errors: the public headers must allow it. */
#include <crm.h>

int main(void)
{
    return crm_version_number() > 0 ? 0 : 1;
}
