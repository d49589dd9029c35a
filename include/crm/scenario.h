/*
 * libcrm: the scenario module. (Its API is added by the module's issue.)
 */
#ifndef CRM_SCENARIO_H
#define CRM_SCENARIO_H

#include "crm/common.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif

#endif /* CRM_SCENARIO_H */
