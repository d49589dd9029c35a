/*
 * libcrm: the clv module. (Its API is added by the module's issue.)
 */
#ifndef CRM_CLV_H
#define CRM_CLV_H

#include "crm/common.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif

#endif /* CRM_CLV_H */
