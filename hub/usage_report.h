/* GET /admin/usage?plan=NAME&start=YYYY-MM-DD&end=YYYY-MM-DD[&keyId=ID] (SPEC section 6):
 * requests per key per day of a usage plan, shaped as AWS's GetUsage answers. */
#ifndef PT_USAGE_REPORT_H
#define PT_USAGE_REPORT_H

struct pt_http;

void pt_usage_report(struct pt_http *h);

#endif
