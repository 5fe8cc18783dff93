/*
 * test_match_complex.c - what a pattern-engine indicator asks of an event (src/match_complex.c):
 * a positive comparison on a custom property (x_..., as MISP network fingerprints are imported)
 * asks for nothing an event can have, so it does not make every event of its type an
 * observation; negated comparisons and the other comparisons still name their type.
 */
#include "match.h"
#include "t.h"

/* The filter of the single pattern p: its type bits in *types, its value keys in *keys. */
static void filter_of(const char *p, unsigned *types, size_t *keys)
{
    accord_pattern *pat = NULL;
    mcfilter f;
    mcf_init(&f);
    CHECK(accord_pattern_compile(p, strlen(p), 0, &pat, NULL) == 0);
    if (pat)
        CHECK(mcf_add_pattern(&f, pat) == 0);
    *types = f.types;
    *keys = f.keys.n;
    accord_pattern_free(pat);
    mcf_free(&f);
}

int main(void)
{
    unsigned nt = mcf_type_bit("network-traffic"), types;
    size_t keys;
    CHECK(nt != 0);
    filter_of("[network-traffic:x_misp_ja3_fingerprint_md5 = 'e7eca2baf4458d095b7f45da28c16c34']",
              &types, &keys);
    CHECK(types == 0 && keys == 0);
    filter_of("[network-traffic:x_misp_hassh_md5 IN ('a', 'b')]", &types, &keys);
    CHECK(types == 0 && keys == 0);
    /* the control: a property events have */
    filter_of("[network-traffic:dst_port = 4444]", &types, &keys);
    CHECK(types == nt);
    /* OR: the other side still asks for its type */
    filter_of("[network-traffic:x_misp_ja3_fingerprint_md5 = 'a' OR network-traffic:dst_port = 1]",
              &types, &keys);
    CHECK(types == nt);
    /* AND with an address: never met, so no requirement at all */
    filter_of("[network-traffic:x_misp_jarm_fingerprint = 'a' AND "
              "network-traffic:dst_ref.value = '198.51.100.7']",
              &types, &keys);
    CHECK(types == 0 && keys == 0);
    /* negated, or !=: a missing property is not ruled out here */
    filter_of("[network-traffic:x_misp_ja3_fingerprint_md5 NOT = 'a']", &types, &keys);
    CHECK(types == nt);
    filter_of("[network-traffic:x_misp_ja3_fingerprint_md5 != 'a']", &types, &keys);
    CHECK(types == nt);
    return t_done();
}
