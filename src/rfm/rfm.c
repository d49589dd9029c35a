/*
 * The crm_rfm handle: lifetime, options, and the records of customers
 * that outgrew their slots (see crm/rfm.h and rfm_internal.h).
 */
#include <string.h>

#include "core/mem.h"
#include "rfm/rfm_internal.h"

crm_status crm_rfm_new(crm_ctx *ctx, crm_rfm **out)
{
    crm_rfm *rfm;

    if (!ctx || !out)
        return crm_error(ctx, CRM_EINVAL, "crm_rfm_new: NULL %s",
                         ctx ? "out" : "ctx");
    rfm = crm_mem_calloc(ctx, 1, sizeof *rfm);
    if (!rfm)
        return crm_error_nomem(ctx);
    rfm->ctx = ctx;
    rfm->bins = CRM_RFM_DEFAULT_BINS;
    rfm->frequency_mode = CRM_RFM_FREQUENCY_ORDERS;
    rfm->monetary_mode = CRM_RFM_MONETARY_TOTAL;
    crm_i64map_init_slots(&rfm->map, sizeof(rfm_slot));
    *out = rfm;
    return CRM_OK;
}

void crm_rfm_free(crm_rfm *rfm)
{
    if (!rfm)
        return;
    crm_i64map_free(rfm->ctx, &rfm->map);
    crm_mem_free(rfm->ctx, rfm->big);
    crm_mem_free(rfm->ctx, rfm->pair_ids);
    crm_mem_free(rfm->ctx, rfm->pair_days);
    crm_mem_free(rfm->ctx, rfm->journal);
    crm_mem_free(rfm->ctx, rfm->created);
    crm_mem_free(rfm->ctx, rfm->grown);
    crm_mem_free(rfm->ctx, rfm);
}

crm_status crm_rfm_clear(crm_rfm *rfm)
{
    if (!rfm)
        return crm_error(NULL, CRM_EINVAL, "NULL rfm");
    crm_i64map_clear(&rfm->map);
    rfm->big_len = 0;
    rfm->pairs_len = 0;
    rfm->scored = 0;
    return CRM_OK;
}

crm_status crm_rfm__reserve_big(crm_rfm *rfm, size_t more)
{
    if (more <= rfm->big_cap - rfm->big_len)
        return CRM_OK;
    if (crm_mem_grow(rfm->ctx, (void **)&rfm->big, &rfm->big_cap,
                     rfm->big_len + more, sizeof *rfm->big) != 0)
        return crm_error_nomem(rfm->ctx);
    return CRM_OK;
}

void crm_rfm__make_big(crm_rfm *rfm, rfm_slot *c)
{
    rfm_big *b = &rfm->big[rfm->big_len];

    b->total = c->total;
    b->count = c->meta >> RFM_COUNT_SHIFT & RFM_SMALL_COUNT_MAX;
    b->day_count = 0;
    c->total = (int32_t)rfm->big_len++;
    c->meta = (c->meta & (RFM_DAY_MASK | RFM_NEW)) | RFM_BIG;
}

size_t crm_rfm_customer_count(const crm_rfm *rfm)
{
    return rfm ? rfm->map.count : 0;
}

/* ---- Options fixing which orders count ---------------------------------- */

static crm_status require_no_data(crm_rfm *rfm, const char *what)
{
    if (rfm->map.count != 0 || rfm->pairs_len != 0)
        return crm_error(rfm->ctx, CRM_ESTATE,
                         "%s: data was already added (crm_rfm_clear first)",
                         what);
    return CRM_OK;
}

static void update_window(crm_rfm *rfm)
{
    if (rfm->window == 0 || rfm->window > rfm->as_of - RFM_TIME_MIN)
        rfm->window_lo = RFM_TIME_MIN;
    else
        rfm->window_lo = rfm->as_of - rfm->window;
    rfm->as_of_day = rfm_day_index(rfm, rfm->as_of);
}

crm_status crm_rfm_set_as_of(crm_rfm *rfm, int64_t as_of)
{
    crm_status status;

    if (!rfm)
        return crm_error(NULL, CRM_EINVAL, "NULL rfm");
    if (as_of < RFM_TIME_MIN || as_of >= RFM_TIME_MAX)
        return crm_error(rfm->ctx, CRM_EINVAL,
                         "as_of %lld is outside years 0001..9999",
                         (long long)as_of);
    status = require_no_data(rfm, "crm_rfm_set_as_of");
    if (status != CRM_OK)
        return status;
    rfm->as_of = as_of;
    rfm->as_of_set = 1;
    update_window(rfm);
    return CRM_OK;
}

crm_status crm_rfm_set_window(crm_rfm *rfm, int64_t window_seconds)
{
    crm_status status;

    if (!rfm)
        return crm_error(NULL, CRM_EINVAL, "NULL rfm");
    if (window_seconds < 0)
        return crm_error(rfm->ctx, CRM_EINVAL, "window %lld is negative",
                         (long long)window_seconds);
    status = require_no_data(rfm, "crm_rfm_set_window");
    if (status != CRM_OK)
        return status;
    rfm->window = window_seconds;
    update_window(rfm);
    return CRM_OK;
}

crm_status crm_rfm_set_utc_offset(crm_rfm *rfm, int32_t offset_minutes)
{
    crm_status status;

    if (!rfm)
        return crm_error(NULL, CRM_EINVAL, "NULL rfm");
    if (offset_minutes < -1440 || offset_minutes > 1440)
        return crm_error(rfm->ctx, CRM_EINVAL,
                         "UTC offset %d minutes is outside -1440..1440",
                         (int)offset_minutes);
    status = require_no_data(rfm, "crm_rfm_set_utc_offset");
    if (status != CRM_OK)
        return status;
    rfm->offset_sec = (int64_t)offset_minutes * 60;
    update_window(rfm);
    return CRM_OK;
}

crm_status crm_rfm_set_frequency_mode(crm_rfm *rfm, crm_rfm_frequency_mode mode)
{
    crm_status status;

    if (!rfm)
        return crm_error(NULL, CRM_EINVAL, "NULL rfm");
    if (mode != CRM_RFM_FREQUENCY_ORDERS && mode != CRM_RFM_FREQUENCY_DAYS)
        return crm_error(rfm->ctx, CRM_EINVAL, "unknown frequency mode %d",
                         (int)mode);
    status = require_no_data(rfm, "crm_rfm_set_frequency_mode");
    if (status != CRM_OK)
        return status;
    rfm->frequency_mode = mode;
    return CRM_OK;
}

/* ---- Scoring options ----------------------------------------------------- */

crm_status crm_rfm_set_monetary_mode(crm_rfm *rfm, crm_rfm_monetary_mode mode)
{
    if (!rfm)
        return crm_error(NULL, CRM_EINVAL, "NULL rfm");
    if (mode != CRM_RFM_MONETARY_TOTAL && mode != CRM_RFM_MONETARY_MEAN)
        return crm_error(rfm->ctx, CRM_EINVAL, "unknown monetary mode %d",
                         (int)mode);
    rfm->monetary_mode = mode;
    rfm->scored = 0;
    return CRM_OK;
}

static const char *dim_name(crm_rfm_dimension dim)
{
    static const char *const names[3] = {"recency", "frequency", "monetary"};

    return names[dim];
}

crm_status crm_rfm_set_bins(crm_rfm *rfm, unsigned bins)
{
    unsigned d;

    if (!rfm)
        return crm_error(NULL, CRM_EINVAL, "NULL rfm");
    if (bins < CRM_RFM_MIN_BINS || bins > CRM_RFM_MAX_BINS)
        return crm_error(rfm->ctx, CRM_EINVAL, "bins %u is outside 2..10",
                         bins);
    for (d = 0; d < 3; d++)
        if (rfm->dims[d].use_thresholds && bins != rfm->bins)
            return crm_error(rfm->ctx, CRM_ESTATE,
                             "%s has thresholds for %u bins: set it back to "
                             "quantile first",
                             dim_name((crm_rfm_dimension)d), rfm->bins);
    rfm->bins = bins;
    rfm->scored = 0;
    return CRM_OK;
}

static int valid_dim(crm_rfm_dimension dim)
{
    return dim == CRM_RFM_RECENCY || dim == CRM_RFM_FREQUENCY ||
           dim == CRM_RFM_MONETARY;
}

static crm_status check_thresholds(crm_rfm *rfm, crm_rfm_dimension dim,
                                   const int64_t *t, size_t count)
{
    size_t i;

    if (count != rfm->bins - 1)
        return crm_error(rfm->ctx, CRM_EINVAL,
                         "%s: %zu thresholds given, %u bins need %u",
                         dim_name(dim), count, rfm->bins, rfm->bins - 1);
    for (i = 1; i < count; i++)
        if (t[i] <= t[i - 1])
            return crm_error(rfm->ctx, CRM_EINVAL,
                             "%s thresholds are not strictly increasing at "
                             "index %zu",
                             dim_name(dim), i);
    if (dim == CRM_RFM_RECENCY && t[0] < 0)
        return crm_error(rfm->ctx, CRM_EINVAL,
                         "recency thresholds are days and must be >= 0");
    return CRM_OK;
}

crm_status crm_rfm_set_thresholds(crm_rfm *rfm, crm_rfm_dimension dim,
                                  const int64_t *thresholds, size_t count)
{
    crm_status status;

    if (!rfm)
        return crm_error(NULL, CRM_EINVAL, "NULL rfm");
    if (!valid_dim(dim))
        return crm_error(rfm->ctx, CRM_EINVAL, "unknown dimension %d",
                         (int)dim);
    if (!thresholds)
        return crm_error(rfm->ctx, CRM_EINVAL, "NULL thresholds");
    status = check_thresholds(rfm, dim, thresholds, count);
    if (status != CRM_OK)
        return status;
    memcpy(rfm->dims[dim].thresholds, thresholds, count * sizeof *thresholds);
    rfm->dims[dim].use_thresholds = 1;
    rfm->scored = 0;
    return CRM_OK;
}

crm_status crm_rfm_set_quantile(crm_rfm *rfm, crm_rfm_dimension dim)
{
    if (!rfm)
        return crm_error(NULL, CRM_EINVAL, "NULL rfm");
    if (!valid_dim(dim))
        return crm_error(rfm->ctx, CRM_EINVAL, "unknown dimension %d",
                         (int)dim);
    rfm->dims[dim].use_thresholds = 0;
    rfm->scored = 0;
    return CRM_OK;
}
