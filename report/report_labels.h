/* report_labels.h - labels for people of the profile numbers the lot report
 * prints (its grades tables): "Shelf-life model: activation energy Ea
 * (kJ/mol)" for model.ea. The CSV keeps the keys; the HTML shows the label
 * and keeps the key in a title attribute for the technician. */
#ifndef CC_REPORT_LABELS_H
#define CC_REPORT_LABELS_H

#include <stddef.h>

/* The label of GROUP.KEY (index: a list element's, -1 outside lists) in
 * buf; never a raw key: one without a label of its own is spelt out
 * (underscores to spaces, units named). Returns buf. */
const char *report_param_label(const char *group, const char *key, int index, char *buf, size_t len);

/* A key spelt out for people: "profile_version" -> "profile version",
 * "model_ea_kj_mol" -> "model ea (kJ/mol)" (the fallback of the labels). */
void report_key_words(const char *key, char *buf, size_t len);

#endif
