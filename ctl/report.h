/* report.h - `coldchainctl report`: a lot's storage history (EN 12830-style
 * header, per-room figures, alarms with their acknowledgements, gaps in the
 * record) read back from InfluxDB and written as a self-contained HTML page
 * or as CSV. */
#ifndef CC_REPORT_H
#define CC_REPORT_H

/* argv[0] is "report".  Returns the exit status: 0 written, 1 failed (no
 * InfluxDB, no data for the lot, invalid configuration), 2 usage error. */
int report_main(int argc, char **argv);

#endif
