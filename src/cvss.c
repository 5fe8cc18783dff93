/*
 * cvss.c - CVSS v3.0, v3.1 and v4.0 vectors: parsing, checking and scoring.
 *
 * A vector is split into "KEY:VALUE" parts; each metric is looked up in the version's metric
 * table (name, allowed values, mandatory or not), so every error names the metric and its byte
 * offset.  Parsed values are kept as one character per metric, indexed by the table.
 *
 * v3.x: the base, temporal and environmental equations of the specifications (section 7 of both),
 * with v3.1's Roundup (the integer form, free of floating-point surprises) and v3.0's plain
 * ceiling to one decimal.  The two versions also differ in the scope-changed modified impact.
 *
 * v4.0: the score is not a formula but the specification's lookup: the vector maps to a macro
 * vector of six equivalence classes (EQ1..EQ6), each macro vector has a score from FIRST's table
 * (v4_lookup below, 270 valid classes of 324 index slots), and the vector's score is that value
 * lowered by the mean proportional distance from the class's highest-severity vectors towards the
 * next lower class (specification section 8.2).  Environmental metrics replace base ones
 * (M-prefixed), X means "not defined" (E:X counts as A, CR/IR/AR:X as H).
 *
 * It does not: compute CVSS v2 (no advisory accord writes carries it), or the v4.0 nomenclature
 * beyond the score (the caller can tell CVSS-B from CVSS-BE by the metrics it gave).
 */
#include "cvss.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define NMETRIC_MAX 32

typedef struct metric_def {
    const char *name;
    const char *values; /* allowed value letters */
    int mandatory;
} metric_def;

static const metric_def v3_metrics[] = {
    {"AV", "NALP", 1},  {"AC", "LH", 1},    {"PR", "NLH", 1},    {"UI", "NR", 1},
    {"S", "UC", 1},     {"C", "HLN", 1},    {"I", "HLN", 1},     {"A", "HLN", 1},
    {"E", "XHFPU", 0},  {"RL", "XUWTO", 0}, {"RC", "XCRU", 0},   {"CR", "XHML", 0},
    {"IR", "XHML", 0},  {"AR", "XHML", 0},  {"MAV", "XNALP", 0}, {"MAC", "XLH", 0},
    {"MPR", "XNLH", 0}, {"MUI", "XNR", 0},  {"MS", "XUC", 0},    {"MC", "XHLN", 0},
    {"MI", "XHLN", 0},  {"MA", "XHLN", 0},  {NULL, NULL, 0}};

/* In the specification's order, which v4.0 vectors must follow. */
static const metric_def v4_metrics[] = {
    {"AV", "NALP", 1},   {"AC", "LH", 1},     {"AT", "NP", 1},    {"PR", "NLH", 1},
    {"UI", "NPA", 1},    {"VC", "HLN", 1},    {"VI", "HLN", 1},   {"VA", "HLN", 1},
    {"SC", "HLN", 1},    {"SI", "HLN", 1},    {"SA", "HLN", 1},   {"E", "XAPU", 0},
    {"CR", "XHML", 0},   {"IR", "XHML", 0},   {"AR", "XHML", 0},  {"MAV", "XNALP", 0},
    {"MAC", "XLH", 0},   {"MAT", "XNP", 0},   {"MPR", "XNLH", 0}, {"MUI", "XNPA", 0},
    {"MVC", "XHLN", 0},  {"MVI", "XHLN", 0},  {"MVA", "XHLN", 0}, {"MSC", "XHLN", 0},
    {"MSI", "XSHLN", 0}, {"MSA", "XSHLN", 0}, {"S", "XNP", 0},    {"AU", "XNY", 0},
    {"R", "XAUI", 0},    {"V", "XDC", 0},     {"RE", "XLMH", 0},  {"U", "XClearGreenAmberRed", 0},
    {NULL, NULL, 0}};

typedef struct parsed {
    const metric_def *defs;
    char val[NMETRIC_MAX]; /* 0 = absent; else the value's first letter */
} parsed;

static int find_metric(const metric_def *defs, const char *name, size_t len)
{
    for (int i = 0; defs[i].name; i++)
        if (strlen(defs[i].name) == len && memcmp(defs[i].name, name, len) == 0)
            return i;
    return -1;
}

/* 1 when value[0..len) is allowed for d: one letter of d->values, or for v4.0's U a word. */
static int value_ok(const metric_def *d, const char *value, size_t len)
{
    if (strcmp(d->name, "U") == 0 && d->values[1] == 'C') {
        static const char *const words[] = {"X", "Clear", "Green", "Amber", "Red", NULL};
        for (int i = 0; words[i]; i++)
            if (strlen(words[i]) == len && memcmp(words[i], value, len) == 0)
                return 1;
        return 0;
    }
    return len == 1 && value[0] && strchr(d->values, value[0]) != NULL;
}

static int fail(char *err, size_t errlen, const char *fmt, const char *a, size_t off)
{
    if (err && errlen)
        snprintf(err, errlen, fmt, a, off);
    return -1;
}

/* Splits the metrics after the "CVSS:x.y/" prefix into p. */
static int parse_metrics(const char *vec, size_t start, int ordered, parsed *p, char *err,
                         size_t errlen)
{
    const char *s = vec + start;
    int last = -1;
    char name[8];
    while (*s) {
        size_t off = (size_t)(s - vec);
        const char *colon = strchr(s, ':'), *slash = strchr(s, '/');
        if (!slash)
            slash = s + strlen(s);
        if (!colon || colon > slash || colon == s || (size_t)(colon - s) >= sizeof(name))
            return fail(err, errlen, "cvss: expected METRIC:VALUE%s at offset %zu", "", off);
        size_t nlen = (size_t)(colon - s);
        memcpy(name, s, nlen);
        name[nlen] = '\0';
        int i = find_metric(p->defs, s, nlen);
        if (i < 0)
            return fail(err, errlen, "cvss: unknown metric %s at offset %zu", name, off);
        if (p->val[i])
            return fail(err, errlen, "cvss: metric %s given twice (offset %zu)", name, off);
        if (ordered && i < last)
            return fail(err, errlen,
                        "cvss: metric %s out of the specification's order (offset %zu)", name, off);
        const char *v = colon + 1;
        if (!value_ok(&p->defs[i], v, (size_t)(slash - v)))
            return fail(err, errlen, "cvss: invalid value for metric %s at offset %zu", name,
                        (size_t)(v - vec));
        p->val[i] = *v;
        last = i;
        s = *slash ? slash + 1 : slash;
        if (*slash && !*s)
            return fail(err, errlen, "cvss: trailing '/'%s at offset %zu", "", (size_t)(s - vec));
    }
    for (int i = 0; p->defs[i].name; i++)
        if (p->defs[i].mandatory && !p->val[i])
            return fail(err, errlen, "cvss: mandatory base metric %s missing (offset %zu)",
                        p->defs[i].name, strlen(vec));
    return 0;
}

static char get(const parsed *p, const char *name)
{
    int i = find_metric(p->defs, name, strlen(name));
    return i < 0 ? 0 : p->val[i];
}

const char *cvss_severity(double score)
{
    if (score <= 0.0)
        return "NONE";
    if (score < 4.0)
        return "LOW";
    if (score < 7.0)
        return "MEDIUM";
    if (score < 9.0)
        return "HIGH";
    return "CRITICAL";
}

/* ------------------------------------------------------------------------------------------ */
/* v3.x                                                                                         */

/* v3.1 Appendix A: round up to one decimal through integers, so 4.000000000001 stays 4.0. */
static double roundup31(double x)
{
    long long i = llround(x * 100000.0);
    if (i % 10000 == 0)
        return (double)i / 100000.0;
    return (floor((double)i / 10000.0) + 1.0) / 10.0;
}

static double roundup30(double x)
{
    return ceil(x * 10.0) / 10.0;
}

static double w_av(char c)
{
    return c == 'N' ? 0.85 : c == 'A' ? 0.62 : c == 'L' ? 0.55 : 0.2;
}
static double w_ac(char c)
{
    return c == 'L' ? 0.77 : 0.44;
}
static double w_pr(char c, int changed)
{
    if (c == 'N')
        return 0.85;
    if (c == 'L')
        return changed ? 0.68 : 0.62;
    return changed ? 0.5 : 0.27;
}
static double w_ui(char c)
{
    return c == 'N' ? 0.85 : 0.62;
}
static double w_cia(char c)
{
    return c == 'H' ? 0.56 : c == 'L' ? 0.22 : 0.0;
}
static double w_req(char c)
{
    return c == 'H' ? 1.5 : c == 'L' ? 0.5 : 1.0;
}
static double w_e(char c)
{
    return c == 'F' ? 0.97 : c == 'P' ? 0.94 : c == 'U' ? 0.91 : 1.0;
}
static double w_rl(char c)
{
    return c == 'W' ? 0.97 : c == 'T' ? 0.96 : c == 'O' ? 0.95 : 1.0;
}
static double w_rc(char c)
{
    return c == 'R' ? 0.96 : c == 'U' ? 0.92 : 1.0;
}

/* The modified metric when defined (not absent, not X), else the base one. */
static char mod(const parsed *p, const char *base, const char *m)
{
    char v = get(p, m);
    return v && v != 'X' ? v : get(p, base);
}

static void score_v3(const parsed *p, cvss_score *out)
{
    double (*ru)(double) = out->version == CVSS_V31 ? roundup31 : roundup30;
    int changed = get(p, "S") == 'C';
    double iss = 1 - (1 - w_cia(get(p, "C"))) * (1 - w_cia(get(p, "I"))) * (1 - w_cia(get(p, "A")));
    double impact = changed ? 7.52 * (iss - 0.029) - 3.25 * pow(iss - 0.02, 15) : 6.42 * iss;
    double expl = 8.22 * w_av(get(p, "AV")) * w_ac(get(p, "AC")) * w_pr(get(p, "PR"), changed) *
                  w_ui(get(p, "UI"));
    double base = 0;
    if (impact > 0)
        base = changed ? ru(fmin(1.08 * (impact + expl), 10)) : ru(fmin(impact + expl, 10));
    double t = w_e(get(p, "E")) * w_rl(get(p, "RL")) * w_rc(get(p, "RC"));
    out->base = base;
    out->temporal = ru(base * t);

    int mchanged = mod(p, "S", "MS") == 'C';
    double miss = fmin(1 - (1 - w_req(get(p, "CR")) * w_cia(mod(p, "C", "MC"))) *
                               (1 - w_req(get(p, "IR")) * w_cia(mod(p, "I", "MI"))) *
                               (1 - w_req(get(p, "AR")) * w_cia(mod(p, "A", "MA"))),
                       0.915);
    double mimpact;
    if (!mchanged)
        mimpact = 6.42 * miss;
    else if (out->version == CVSS_V31)
        mimpact = 7.52 * (miss - 0.029) - 3.25 * pow(miss * 0.9731 - 0.02, 13);
    else
        mimpact = 7.52 * (miss - 0.029) - 3.25 * pow(miss - 0.02, 15);
    double mexpl = 8.22 * w_av(mod(p, "AV", "MAV")) * w_ac(mod(p, "AC", "MAC")) *
                   w_pr(mod(p, "PR", "MPR"), mchanged) * w_ui(mod(p, "UI", "MUI"));
    double env = 0;
    if (mimpact > 0) {
        double sum = mchanged ? fmin(1.08 * (mimpact + mexpl), 10) : fmin(mimpact + mexpl, 10);
        env = ru(ru(sum) * t);
    }
    out->environmental = env;
}

/* ------------------------------------------------------------------------------------------ */
/* v4.0                                                                                         */

/* FIRST's macro vector scores times ten, indexed by macro_index(); -1 for the 54 slots with
 * EQ3 = 2 and EQ6 = 0, which no vector reaches. */
static const signed char v4_lookup[324] = {
    100, 99, 98, 95, 95, 92, 100, 96, 93, 87, 91, 81, 93, 90, 89, 80, 81, 68, 98, 95, 95, 92,
    90,  84, 93, 92, 89, 81, 81,  65, 88, 80, 78, 70, 69, 48, -1, 92, -1, 82, -1, 72, -1, 79,
    -1,  69, -1, 50, -1, 69, -1,  55, -1, 27, 99, 97, 95, 92, 92, 85, 95, 91, 90, 83, 84, 71,
    92,  81, 82, 71, 72, 53, 95,  93, 92, 85, 85, 73, 92, 82, 80, 72, 70, 59, 84, 70, 71, 52,
    50,  30, -1, 86, -1, 75, -1,  52, -1, 71, -1, 52, -1, 29, -1, 63, -1, 29, -1, 17, 98, 95,
    94,  87, 91, 81, 94, 89, 86,  74, 77, 64, 87, 75, 74, 63, 63, 49, 94, 89, 88, 77, 76, 67,
    86,  76, 74, 58, 59, 50, 72,  57, 57, 52, 52, 25, -1, 83, -1, 70, -1, 54, -1, 65, -1, 58,
    -1,  26, -1, 53, -1, 21, -1,  13, 95, 90, 88, 76, 76, 70, 90, 77, 75, 62, 61, 53, 77, 66,
    68,  59, 52, 30, 89, 78, 76,  67, 62, 58, 74, 59, 57, 57, 47, 23, 61, 52, 57, 29, 24, 16,
    -1,  71, -1, 59, -1, 30, -1,  58, -1, 26, -1, 15, -1, 23, -1, 13, -1, 6,  93, 87, 86, 72,
    75,  58, 86, 74, 74, 61, 56,  34, 70, 54, 52, 40, 40, 22, 85, 75, 74, 55, 62, 51, 72, 57,
    55,  41, 46, 19, 53, 36, 34,  19, 19, 8,  -1, 64, -1, 51, -1, 20, -1, 47, -1, 21, -1, 11,
    -1,  24, -1, 9,  -1, 4,  88,  75, 73, 53, 60, 50, 73, 55, 59, 40, 41, 20, 54, 43, 45, 22,
    20,  11, 75, 55, 58, 45, 40,  21, 61, 51, 48, 18, 20, 9,  46, 18, 17, 7,  8,  2,  -1, 53,
    -1,  24, -1, 14, -1, 24, -1,  12, -1, 5,  -1, 10, -1, 3,  -1, 1,
};

static int macro_index(const int eq[6])
{
    return ((((eq[0] * 2 + eq[1]) * 3 + eq[2]) * 3 + eq[3]) * 3 + eq[4]) * 2 + eq[5];
}

/* The macro vector's score times ten, or -1 when that class does not exist. */
static int lookup(const int eq[6])
{
    if (eq[0] > 2 || eq[1] > 1 || eq[2] > 2 || eq[3] > 2 || eq[4] > 2 || eq[5] > 1)
        return -1;
    return v4_lookup[macro_index(eq)];
}

/* The effective value of a v4.0 metric: modified when defined, X defaults for E and CR/IR/AR. */
static char eff(const parsed *p, const char *name)
{
    char v = get(p, name);
    if (strcmp(name, "E") == 0)
        return v && v != 'X' ? v : 'A';
    if (strcmp(name, "CR") == 0 || strcmp(name, "IR") == 0 || strcmp(name, "AR") == 0)
        return v && v != 'X' ? v : 'H';
    char m[8];
    snprintf(m, sizeof(m), "M%s", name);
    char mv = get(p, m);
    return mv && mv != 'X' ? mv : v;
}

static void macro_vector(const parsed *p, int eq[6])
{
    char av = eff(p, "AV"), pr = eff(p, "PR"), ui = eff(p, "UI");
    if (av == 'N' && pr == 'N' && ui == 'N')
        eq[0] = 0;
    else if ((av == 'N' || pr == 'N' || ui == 'N') && av != 'P')
        eq[0] = 1;
    else
        eq[0] = 2;
    eq[1] = eff(p, "AC") == 'L' && eff(p, "AT") == 'N' ? 0 : 1;
    char vc = eff(p, "VC"), vi = eff(p, "VI"), va = eff(p, "VA");
    if (vc == 'H' && vi == 'H')
        eq[2] = 0;
    else if (vc == 'H' || vi == 'H' || va == 'H')
        eq[2] = 1;
    else
        eq[2] = 2;
    char msi = get(p, "MSI"), msa = get(p, "MSA");
    if (msi == 'S' || msa == 'S')
        eq[3] = 0;
    else if (eff(p, "SC") == 'H' || eff(p, "SI") == 'H' || eff(p, "SA") == 'H')
        eq[3] = 1;
    else
        eq[3] = 2;
    char e = eff(p, "E");
    eq[4] = e == 'A' ? 0 : e == 'P' ? 1 : 2;
    eq[5] = (eff(p, "CR") == 'H' && vc == 'H') || (eff(p, "IR") == 'H' && vi == 'H') ||
                    (eff(p, "AR") == 'H' && va == 'H')
                ? 0
                : 1;
}

/* Severity level of a metric value within its metric, in tenths (0 = most severe). */
static int level(const char *name, char v)
{
    static const struct {
        const char *name, *order;
        int first;
    } levels[] = {{"AV", "NALP", 0}, {"PR", "NLH", 0},  {"UI", "NPA", 0},  {"AC", "LH", 0},
                  {"AT", "NP", 0},   {"VC", "HLN", 0},  {"VI", "HLN", 0},  {"VA", "HLN", 0},
                  {"SC", "HLN", 1},  {"SI", "SHLN", 0}, {"SA", "SHLN", 0}, {"CR", "HML", 0},
                  {"IR", "HML", 0},  {"AR", "HML", 0}};
    for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
        if (strcmp(levels[i].name, name) == 0) {
            const char *at = strchr(levels[i].order, v);
            return levels[i].first + (at ? (int)(at - levels[i].order) : 0);
        }
    return 0;
}

/*
 * The highest-severity vectors of each class (FIRST's "max composed" table), as metric=value
 * strings; the first combination not less severe than the scored vector in any metric is the
 * reference for its severity distance.
 */
static const char *const eq1_max[3][3] = {{"AV:N/PR:N/UI:N", NULL, NULL},
                                          {"AV:A/PR:N/UI:N", "AV:N/PR:L/UI:N", "AV:N/PR:N/UI:P"},
                                          {"AV:P/PR:N/UI:N", "AV:A/PR:L/UI:P", NULL}};
static const char *const eq2_max[2][2] = {{"AC:L/AT:N", NULL}, {"AC:H/AT:N", "AC:L/AT:P"}};
static const char *const eq36_max[3][2][5] = {
    {{"VC:H/VI:H/VA:H/CR:H/IR:H/AR:H", NULL},
     {"VC:H/VI:H/VA:L/CR:M/IR:M/AR:H", "VC:H/VI:H/VA:H/CR:M/IR:M/AR:M", NULL}},
    {{"VC:L/VI:H/VA:H/CR:H/IR:H/AR:H", "VC:H/VI:L/VA:H/CR:H/IR:H/AR:H", NULL},
     {"VC:L/VI:H/VA:L/CR:H/IR:M/AR:H", "VC:L/VI:H/VA:H/CR:H/IR:M/AR:M",
      "VC:H/VI:L/VA:H/CR:M/IR:H/AR:M", "VC:H/VI:L/VA:L/CR:M/IR:H/AR:H",
      "VC:L/VI:L/VA:H/CR:H/IR:H/AR:M"}},
    {{NULL}, {"VC:L/VI:L/VA:L/CR:H/IR:H/AR:H", NULL}}};
static const char *const eq4_max[3] = {"SC:H/SI:S/SA:S", "SC:H/SI:H/SA:H", "SC:L/SI:L/SA:L"};
/* the class depths (FIRST's "max severity", in tenths) */
static const int eq1_depth[3] = {1, 4, 5}, eq2_depth[2] = {1, 2}, eq4_depth[3] = {6, 5, 4};
static const int eq36_depth[3][2] = {{7, 6}, {8, 8}, {0, 10}};

/* The value of metric name in a "AV:N/PR:N/..." string. */
static char in_max(const char *s, const char *name)
{
    size_t n = strlen(name);
    for (const char *q = s; q && *q; q = strchr(q, '/') ? strchr(q, '/') + 1 : NULL)
        if (strncmp(q, name, n) == 0 && q[n] == ':')
            return q[n + 1];
    return 0;
}

static const char *const dist_metrics[] = {"AV", "PR", "UI", "AC", "AT", "VC", "VI",
                                           "VA", "SC", "SI", "SA", "CR", "IR", "AR"};
#define NDIST (sizeof(dist_metrics) / sizeof(dist_metrics[0]))

/* Severity distances of p from the first max vector of its class that dominates it. */
static void distances(const parsed *p, const int eq[6], int d[NDIST])
{
    const char *const *l1 = eq1_max[eq[0]], *const *l2 = eq2_max[eq[1]];
    const char *const *l3 = eq36_max[eq[2]][eq[5]];
    const char *l4 = eq4_max[eq[3]];
    char joined[160];
    for (int a = 0; a < 3 && l1[a]; a++)
        for (int b = 0; b < 2 && l2[b]; b++)
            for (int c = 0; c < 5 && l3[c]; c++) {
                snprintf(joined, sizeof(joined), "%s/%s/%s/%s", l1[a], l2[b], l3[c], l4);
                int ok = 1;
                for (size_t i = 0; i < NDIST; i++) {
                    d[i] = level(dist_metrics[i], eff(p, dist_metrics[i])) -
                           level(dist_metrics[i], in_max(joined, dist_metrics[i]));
                    ok &= d[i] >= 0;
                }
                if (ok)
                    return;
            }
}

static void score_v4(const parsed *p, cvss_score *out)
{
    static const char *const impact[] = {"VC", "VI", "VA", "SC", "SI", "SA"};
    int none = 1;
    for (int i = 0; i < 6; i++)
        none &= eff(p, impact[i]) == 'N';
    if (none) {
        out->base = out->temporal = out->environmental = 0;
        return;
    }
    int eq[6];
    macro_vector(p, eq);
    double value = lookup(eq) / 10.0;
    int d[NDIST];
    distances(p, eq, d);
    int cur1 = d[0] + d[1] + d[2], cur2 = d[3] + d[4];
    int cur36 = d[5] + d[6] + d[7] + d[11] + d[12] + d[13], cur4 = d[8] + d[9] + d[10];

    /* the next lower class of each equation; EQ3 and EQ6 move together */
    int lo[5];
    int n1[6], n2[6], n4[6], n5[6];
    memcpy(n1, eq, sizeof(n1));
    memcpy(n2, eq, sizeof(n2));
    memcpy(n4, eq, sizeof(n4));
    memcpy(n5, eq, sizeof(n5));
    n1[0]++, n2[1]++, n4[3]++, n5[4]++;
    lo[0] = lookup(n1);
    lo[1] = lookup(n2);
    lo[3] = lookup(n4);
    lo[4] = lookup(n5);
    int a[6], b[6];
    memcpy(a, eq, sizeof(a));
    memcpy(b, eq, sizeof(b));
    if (eq[2] == 0 && eq[5] == 0) {
        a[5]++, b[2]++;
        int la = lookup(a), lb = lookup(b);
        lo[2] = la > lb ? la : lb;
    } else if (eq[2] == 1 && eq[5] == 0) {
        a[5]++;
        lo[2] = lookup(a);
    } else if (eq[2] == 2) {
        a[2]++, a[5]++;
        lo[2] = lookup(a);
    } else {
        a[2]++;
        lo[2] = lookup(a);
    }
    double depth[5] = {eq1_depth[eq[0]] * 0.1, eq2_depth[eq[1]] * 0.1,
                       eq36_depth[eq[2]][eq[5]] * 0.1, eq4_depth[eq[3]] * 0.1, 1};
    int cur[5] = {cur1, cur2, cur36, cur4, 0};
    double sum = 0;
    int n = 0;
    for (int i = 0; i < 5; i++) {
        if (lo[i] < 0)
            continue;
        n++;
        sum += (value - lo[i] / 10.0) * (cur[i] * 0.1 / depth[i]);
    }
    if (n)
        value -= sum / n;
    value = fmax(0, fmin(10, value));
    out->base = out->temporal = out->environmental = round(value * 10) / 10;
}

/* ------------------------------------------------------------------------------------------ */

int cvss_parse(const char *vector, cvss_score *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    parsed p = {0};
    size_t start;
    if (!vector)
        return fail(err, errlen, "cvss: no vector%s (offset %zu)", "", 0);
    if (strlen(vector) >= sizeof(out->vector))
        return fail(err, errlen, "cvss: vector longer than %s%zu bytes", "",
                    sizeof(out->vector) - 1);
    if (strncmp(vector, "CVSS:3.1/", 9) == 0) {
        out->version = CVSS_V31, p.defs = v3_metrics, start = 9;
    } else if (strncmp(vector, "CVSS:3.0/", 9) == 0) {
        out->version = CVSS_V30, p.defs = v3_metrics, start = 9;
    } else if (strncmp(vector, "CVSS:4.0/", 9) == 0) {
        out->version = CVSS_V40, p.defs = v4_metrics, start = 9;
    } else {
        return fail(err, errlen,
                    "cvss: vector must start with CVSS:3.0/, CVSS:3.1/ or CVSS:4.0/%s (offset %zu)",
                    "", 0);
    }
    if (parse_metrics(vector, start, out->version == CVSS_V40, &p, err, errlen))
        return -1;
    if (out->version == CVSS_V40)
        score_v4(&p, out);
    else
        score_v3(&p, out);
    out->severity = cvss_severity(out->base);
    snprintf(out->vector, sizeof(out->vector), "%s", vector);
    return 0;
}
