/*
 * libcrm: the identity module. (Its API is added by the module's issue.)
 */
#ifndef CRM_IDENTITY_H
#define CRM_IDENTITY_H

#include "crm/common.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif

#endif /* CRM_IDENTITY_H */
