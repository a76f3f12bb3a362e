/*
 * The Prometheus text exposition format (version 0.0.4): metric families
 * with one HELP and one TYPE line each, then their samples, label values
 * escaped.  The writer refuses what a scraper would reject.
 */
#ifndef EXPO_H
#define EXPO_H

#include <stdio.h>

#define EXPO_FAMILIES_MAX	64	/* per exposition */
#define EXPO_NAME_MAX		96

enum expo_type { EXPO_COUNTER, EXPO_GAUGE };

struct expo {
	FILE	*f;
	int	 nfamilies;
	char	 family[EXPO_FAMILIES_MAX][EXPO_NAME_MAX];
	int	 errors;	/* calls refused: a bug in the caller */
};

void	expo_init(struct expo *, FILE *);

/*
 * Start the family name: its HELP and TYPE lines.  Every sample of it
 * follows before the next family starts.  -1 (nothing written) for a
 * name that is invalid or was started before.
 */
int	expo_family(struct expo *, const char *name, enum expo_type,
	    const char *help);

/*
 * One sample of the current family: labels are name, value pairs ending
 * with NULL.  -1 (nothing written) when name is not the family's or a
 * label name is invalid.
 */
int	expo_sample(struct expo *, const char *name,
	    unsigned long long value, ...) __attribute__((sentinel));

/* Metric and label names: [a-zA-Z_:][a-zA-Z0-9_:]* (labels: no ':'). */
int	expo_valid_name(const char *, int label);

#endif
