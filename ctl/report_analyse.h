/* report_analyse.h - moved to report/report_analyse.h (the report's engine,
 * shared by coldchainctl and the daemon's web page); kept so that
 * tests/unit/test_report_analyse.c builds unchanged. */
#include "../report/report_analyse.h"
