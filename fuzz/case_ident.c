/*
 * fuzz/case_ident.c - the parsers of the disclosure subsystem on arbitrary bytes: CVSS vectors,
 * package URLs, CPE 2.3 strings, CVE/CWE ids and RFC 3339 instants with offsets.
 *
 * Properties checked beyond "no crash": an accepted CVSS vector scores within 0..10 with a
 * severity matching its score; a rejected one has a message; an accepted purl's canonical base
 * parses again to the same base (canonicalisation is idempotent) and covers itself.
 */
#include "case_ident.h"
#include "cvss.h"
#include "accord.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    char e[256] = "";
    cvss_score sc;
    if (cvss_parse(s, &sc, e, sizeof(e)) == 0) {
        if (sc.base < 0 || sc.base > 10 || sc.environmental < 0 || sc.environmental > 10 ||
            strcmp(sc.severity, cvss_severity(sc.base)) != 0)
            abort();
    } else if (!e[0]) {
        abort();
    }
    purl p, q;
    if (purl_parse(s, &p, e, sizeof(e)) == 0) {
        if (purl_parse(p.base, &q, e, sizeof(e)) != 0 || strcmp(p.base, q.base) != 0 ||
            !purl_covers(p.base, p.base))
            abort();
        char name[600];
        purl_osv_name(&p, name, sizeof(name));
    }
    if (cpe23_check(s, e, sizeof(e)) == 0) {
        char v[256], pr[256];
        cpe23_vendor_product(s, v, sizeof(v), pr, sizeof(pr));
    }
    cve_id_check(s, e, sizeof(e));
    cwe_id_check(s, e, sizeof(e));
    int64_t us;
    accord_instant_parse(s, &us);
    free(s);
    return 0;
}
