/* modbus_sim.c - a Modbus TCP / RTU server on libmodbus for the tests and
 * the demo: serves the units of a map file, or the "lychee" scenario (two
 * cold rooms whose readings evolve with time, and a precooler, an SO2
 * fumigation chamber and a drying kiln).
 *
 * Usage:
 *   modbus_sim (--tcp HOST:PORT | --rtu DEVICE [--baud N --parity N|E|O
 *              --data-bits 8 --stop-bits 1]) (--map FILE | --scenario lychee)
 *              [--ready-file FILE] [--turnaround-ms N] [--seed N]
 *              [--turnaround-spin-us N] [--process-scale N] [-v]
 *
 * TCP: PORT 0 picks a free port.  Once listening it prints
 * "listening on HOST:PORT" on stdout and writes "PORT\n" to the ready file
 * (written to FILE.tmp, then renamed, so a poller never sees a partial
 * file).  Any number of clients, one select() loop.  SIGHUP (TCP) re-reads
 * the map file, which replaces the old one: its values overwrite the served
 * ones (tests change a reading), a unit it no longer names is gone (answered
 * as a unit not in the map) until a later file names it again, and "dead",
 * "exception" and "counter" lines hold only while the file has them.
 * Registers the new file does not set keep their values, so a counter
 * resumes where it was when its unit comes back.  RTU: the ready file
 * gets "DEVICE\n" once the serial port is open.  SIGTERM/SIGINT: clean exit 0,
 * after printing "counter unit U TABLE ADDRESS: N" for each counter, and,
 * with --turnaround-ms, "turnaround asked U us, delivered mean M us max X us
 * over N replies": request arrived to reply sent, as this machine kept it.
 * A turnaround runs from the request's arrival (TCP: the kernel's stamp of
 * its last segment, when it came whole); --turnaround-spin-us N spins its
 * last N us instead of sleeping them, so that it ends on time where timers
 * wake late (the bench).
 *
 * Map file, one statement a line, '#' starts a comment:
 *   UNIT TABLE ADDRESS TYPE ORDER VALUE   1 holding 0 float32 CDAB 3.5
 *                                         2 coil 0 bool - 1
 *   UNIT dead                             never answers that unit
 *   UNIT exception TABLE START COUNT CODE a request touching START..START+COUNT-1
 *                                         gets exception CODE (e.g. 2)
 *   UNIT counter TABLE ADDRESS            holding or input: a uint32 (ABCD) at
 *                                         ADDRESS..ADDRESS+1 that counts the reads
 *                                         touching it (the first read gets 1), so
 *                                         every reading served is distinct (the
 *                                         soak test checks each one arrived once)
 * TABLE: coil, discrete, holding, input.  TYPE: bool, int16, uint16, int32,
 * uint32, int64, uint64, float32, float64.  ORDER: ABCD, CDAB, BADC, DCBA
 * (as in daemon/config.h; "-" = ABCD).  A bool in a register table sets the
 * register to 0/1.
 *
 * Semantics chosen here:
 *  - every address of a known unit is readable (0 unless the map sets it),
 *    like a libmodbus mapping of whole tables; declare holes with
 *    "exception" lines (a read bridging a hole then gets exception 2, which
 *    is how tests exercise the driver's gap splitting);
 *  - a unit not in the map: TCP answers exception 0x0B (gateway target
 *    failed to respond), as a Modbus TCP gateway does; RTU stays silent,
 *    as an empty address on a serial line does;
 *  - RTU serves every live unit of the map: requests are framed here (see
 *    rtu_read_frame() for why not modbus_receive()), then answered with
 *    modbus_reply() under the request's slave id.
 *
 * --scenario lychee, with time compressed (1 real second = 1 simulated
 * minute), from start-up:
 *   unit 1  room A temp/RH transmitter (XY-MD02 style): input 1 = temp int16
 *           x0.1 C, input 2 = RH int16 x0.1 %
 *   unit 2  room B, same map
 *   unit 3  room A controller: holding 0..1 air temp float32 CDAB, holding 2..3
 *           evaporator temp float32 CDAB, discrete 0 door open, coil 0 compressor
 *   unit 4  room A CO2 (GMP252 style): holding 0..1 ppm float32 CDAB,
 *           holding 4..5 probe temperature float32 CDAB
 *   unit 5  room B controller, unit 3's map (shows the compressor fault)
 *   Room A: pull-down from field heat 30 C to 3.5 C (time constant 30 min);
 *   its door opens every 20 min for 3 min (+1.5 K, RH dip).  Room B holds a
 *   pre-cooled lot at 3.5 C until its compressor fails at 30 min; then it
 *   warms towards a summer packhouse's 32 C, at first about 6 K/h (a loaded
 *   room with the fans still running: time constant 28.5 K / 6 K/h); RH
 *   90-95 %.
 *
 * Process equipment of the scenario (units 6-8), on a clock of its own:
 * --process-scale N simulated seconds per real second (default 60, as the
 * rooms), counted from the wall clock (CLOCK_REALTIME), so a batch's start
 * t0 is a time a client can be told.  A client that stamps readings at the
 * wall clock (coldchaind does) sees rates N times the simulated ones (C in
 * 1/h) and durations N times shorter.  Noise comes from its own stream
 * seeded by --seed, so a run repeats whatever the rooms' polling does.
 * All values float32 CDAB in holding registers; holding 10 of each unit is
 * a command register (write a value; it acts at once and reads back 0).
 *   unit 6  forced-air precooler: holding 0..1 supply air (set-point 2.0 C,
 *           +-0.05), 2..3, 4..5, 6..7 pulp probes 1-3 (+-0.01 K):
 *           T = Tm + (T0 - Tm) min(1, j e^(-C t)), t simulated hours since
 *           the fans started; probes 1, 2 near the fans (C 2.0, 1.8 /h;
 *           j 1.05, 1.10), probe 3 the centre, slowest (C 1.5 /h, j 1.30);
 *           T0 29-31 C per probe and batch (seeded); before the first batch
 *           the probes read 30 C (field heat).
 *           holding 10 command: 1 load a new batch (the fans start at t0,
 *           the next whole second + 2 s; stdout gets "precooler: batch N
 *           loaded, fans start at t0 EPOCH; T0 ... C; ... slowest probe 3 C
 *           c j j"), 2 stop (fans off: the probes drift back towards 30 C,
 *           e-folding 0.3 /h, the air at 2 /h); holding 11 state (0 idle,
 *           1 cooling, 2 stopped), 12 batch number, 14..15 t0 (uint32
 *           ABCD, Unix seconds), 20+2i / 21+2i probe i+1's C and j x1000
 *           (uint16), 30 the process scale; coil 0 fans running.
 *   unit 7  SO2 fumigation chamber (burning sulphur), a cycle every 3
 *           simulated hours from start-up or from a command: burn 0-20 min
 *           (rise to 2000 ppm, coil 0 burner on), hold 20-40 min (uptake,
 *           -0.5 %/min), purge from 40 min at 6 air changes/h (exponential,
 *           coil 1 purge fan on); holding 0..1 SO2 inside ppm, 2..3 SO2
 *           outside ppm (a leak: 0.1 % of the inside, +-0.02); holding 10
 *           command: 1 starts a new cycle at t0, the next whole second + 2 s
 *           (stdout gets "fumigation: cycle N starts at t0 EPOCH"; 0 ppm
 *           until then), 2 opens the door, 3 shuts it (coil 2 door open);
 *           11 phase (0 before t0, 1 burn, 2 hold, 3 purge), 12 cycle
 *           number, 14..15 the cycle's own CT so far (the noiseless curve's
 *           exact integral from t0, ppm x simulated hours, float32 CDAB),
 *           16..17 t0 (uint32 ABCD, Unix seconds).
 *   unit 8  drying kiln (lychee): air temperature per a staged schedule (70 C
 *           to 4 h, 60 C to 10 h, 55 C after, reached with a 10-min lag,
 *           from 25 C); 100 kg dry solids with moisture X (dry basis)
 *           = 0.1 + 3.9 e^(-0.12 t) (Lewis, t h): holding 0..1 air C, 2..3
 *           air RH %, 4..5 load cell kg = 100 (1 + X); holding 10 command 1
 *           loads a new batch (the schedule restarts at t0, the next whole
 *           second + 2 s; stdout gets "kiln: batch N loaded, burner starts
 *           at t0 EPOCH; ..."), 2 freezes the load cell (it repeats its
 *           last value until the next load: a stuck cell; stdout gets
 *           "kiln: batch N load cell frozen"); 11 stage (1-3), 12 batch
 *           number, 13 1 while the load cell is frozen; coil 0 burner. */
#include <modbus.h>

#include <errno.h>
#include <math.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define NUNITS 248
#define NTABLE 65536
/* Room B after its compressor fault: the ambient it warms towards, and how
 * fast (28.5 K at 6 K/h: 285 simulated minutes). */
#define ROOM_B_AMBIENT 32.0
#define ROOM_B_TAU_MIN 285.0

enum table { T_COIL, T_DISCRETE, T_HOLDING, T_INPUT };

struct exc_range {
	int unit;
	enum table table;
	unsigned start, count;
	int code;
};

struct unit {
	int present; /* named by the current map file (or the scenario) */
	int dead;
	modbus_mapping_t *map; /* kept while absent: a unit comes back with its values */
};

struct counter {
	int unit;
	enum table table;
	unsigned addr;
};

static struct unit units[NUNITS];
static struct exc_range *excs;
static size_t nexcs;
static struct counter *ctrs;
static size_t nctrs;
static int verbose;
static int lychee;
static double t0_real;
static uint64_t seed = 1;
static volatile sig_atomic_t got_signal;
static volatile sig_atomic_t got_hup; /* TCP: re-read the map file (tests change values) */
static const char *map_path;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("modbus_sim: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		got_hup = 1;
	else
		got_signal = sig;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct unit *unit_get(int id)
{
	struct unit *u = &units[id];

	if (!u->map) {
		u->map = modbus_mapping_new(NTABLE, NTABLE, NTABLE, NTABLE);
		if (!u->map)
			die("unit %d: %s", id, modbus_strerror(errno));
	}
	u->present = 1;
	return u;
}

static int parse_table(const char *s, enum table *t)
{
	static const char *const names[] = { "coil", "discrete", "holding", "input" };

	for (int i = 0; i < 4; i++)
		if (strcmp(s, names[i]) == 0) {
			*t = (enum table)i;
			return 0;
		}
	return -1;
}

/* Byte stream of the value, most significant first, then reordered: the
 * reordering of config.h is its own inverse (word reversal and byte swap). */
static int encode(const char *type, const char *order, const char *val, uint16_t *w, int *nw)
{
	uint8_t b[8], o[8];
	uint64_t u = 0;
	int n, swap_words, swap_bytes;
	char *end;

	errno = 0;
	if (strcmp(type, "bool") == 0 || strcmp(type, "int16") == 0 || strcmp(type, "uint16") == 0) {
		long long v = strtoll(val, &end, 0);
		if (*end || errno || v < -32768 || v > 65535)
			return -1;
		u = (uint16_t)v;
		n = 1;
	} else if (strcmp(type, "int32") == 0 || strcmp(type, "uint32") == 0) {
		long long v = strtoll(val, &end, 0);
		if (*end || errno || v < INT32_MIN || v > (long long)UINT32_MAX)
			return -1;
		u = (uint32_t)v;
		n = 2;
	} else if (strcmp(type, "int64") == 0) {
		long long v = strtoll(val, &end, 0);
		if (*end || errno)
			return -1;
		u = (uint64_t)v;
		n = 4;
	} else if (strcmp(type, "uint64") == 0) {
		unsigned long long v = strtoull(val, &end, 0);
		if (*end || errno)
			return -1;
		u = v;
		n = 4;
	} else if (strcmp(type, "float32") == 0) {
		float f = strtof(val, &end);
		uint32_t x;
		if (*end)
			return -1;
		memcpy(&x, &f, 4);
		u = x;
		n = 2;
	} else if (strcmp(type, "float64") == 0) {
		double d = strtod(val, &end);
		if (*end)
			return -1;
		memcpy(&u, &d, 8);
		n = 4;
	} else {
		return -1;
	}
	if (strcmp(order, "ABCD") == 0 || strcmp(order, "-") == 0) {
		swap_words = swap_bytes = 0;
	} else if (strcmp(order, "CDAB") == 0) {
		swap_words = 1, swap_bytes = 0;
	} else if (strcmp(order, "BADC") == 0) {
		swap_words = 0, swap_bytes = 1;
	} else if (strcmp(order, "DCBA") == 0) {
		swap_words = swap_bytes = 1;
	} else {
		return -1;
	}
	for (int i = 0; i < 2 * n; i++)
		b[i] = (uint8_t)(u >> (8 * (2 * n - 1 - i)));
	for (int i = 0; i < n; i++) {
		int src = swap_words ? n - 1 - i : i;
		o[2 * i] = swap_bytes ? b[2 * src + 1] : b[2 * src];
		o[2 * i + 1] = swap_bytes ? b[2 * src] : b[2 * src + 1];
	}
	for (int i = 0; i < n; i++)
		w[i] = (uint16_t)(o[2 * i] << 8 | o[2 * i + 1]);
	*nw = n;
	return 0;
}

static void map_load(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[512];
	int lineno = 0, errs = 0;

	if (!f)
		die("%s: %s", path, strerror(errno));
	/* The file replaces the previous one (SIGHUP): only registers persist. */
	for (int u = 0; u < NUNITS; u++)
		units[u].present = units[u].dead = 0;
	nexcs = 0;
	nctrs = 0;
	while (fgets(line, sizeof(line), f)) {
		char *tok[8], *save = NULL, *p;
		int n = 0, unit;
		enum table t;

		lineno++;
		if ((p = strchr(line, '#')))
			*p = 0;
		for (p = strtok_r(line, " \t\r\n", &save); p && n < 8; p = strtok_r(NULL, " \t\r\n", &save))
			tok[n++] = p;
		if (n == 0)
			continue;
		unit = atoi(tok[0]);
		if (unit < 0 || unit >= NUNITS || strspn(tok[0], "0123456789") != strlen(tok[0])) {
			fprintf(stderr, "%s:%d: unit must be 0..247\n", path, lineno);
			errs++;
			continue;
		}
		if (n == 2 && strcmp(tok[1], "dead") == 0) {
			unit_get(unit)->dead = 1;
			continue;
		}
		if (n == 6 && strcmp(tok[1], "exception") == 0) {
			struct exc_range e = { .unit = unit };
			if (parse_table(tok[2], &e.table) < 0) {
				fprintf(stderr, "%s:%d: unknown table \"%s\"\n", path, lineno, tok[2]);
				errs++;
				continue;
			}
			e.start = (unsigned)strtoul(tok[3], NULL, 0);
			e.count = (unsigned)strtoul(tok[4], NULL, 0);
			e.code = (int)strtol(tok[5], NULL, 0);
			if (e.start > 65535 || e.count < 1 || e.code < 1 || e.code > 255) {
				fprintf(stderr, "%s:%d: bad exception range or code\n", path, lineno);
				errs++;
				continue;
			}
			excs = realloc(excs, (nexcs + 1) * sizeof(*excs));
			if (!excs)
				die("out of memory");
			excs[nexcs++] = e;
			unit_get(unit);
			continue;
		}
		if (n == 4 && strcmp(tok[1], "counter") == 0) {
			struct counter c = { .unit = unit };
			if (parse_table(tok[2], &c.table) < 0 || (c.table != T_HOLDING && c.table != T_INPUT)) {
				fprintf(stderr, "%s:%d: a counter is in table holding or input\n", path, lineno);
				errs++;
				continue;
			}
			c.addr = (unsigned)strtoul(tok[3], NULL, 0);
			if (c.addr > 65534) {
				fprintf(stderr, "%s:%d: counter address out of range\n", path, lineno);
				errs++;
				continue;
			}
			ctrs = realloc(ctrs, (nctrs + 1) * sizeof(*ctrs));
			if (!ctrs)
				die("out of memory");
			ctrs[nctrs++] = c;
			unit_get(unit);
			continue;
		}
		if (n == 6) {
			uint16_t w[4];
			int nw;
			unsigned addr = (unsigned)strtoul(tok[2], NULL, 0);
			struct unit *u;

			if (parse_table(tok[1], &t) < 0) {
				fprintf(stderr, "%s:%d: unknown table \"%s\"\n", path, lineno, tok[1]);
				errs++;
				continue;
			}
			if (encode(tok[3], tok[4], tok[5], w, &nw) < 0) {
				fprintf(stderr, "%s:%d: bad type, order or value \"%s %s %s\"\n", path, lineno, tok[3],
					tok[4], tok[5]);
				errs++;
				continue;
			}
			if (addr + (unsigned)nw > 65536 || ((t == T_COIL || t == T_DISCRETE) && strcmp(tok[3], "bool"))) {
				fprintf(stderr, "%s:%d: address out of range or non-bool in a bit table\n", path, lineno);
				errs++;
				continue;
			}
			u = unit_get(unit);
			if (t == T_COIL)
				u->map->tab_bits[addr] = w[0] ? 1 : 0;
			else if (t == T_DISCRETE)
				u->map->tab_input_bits[addr] = w[0] ? 1 : 0;
			else
				for (int i = 0; i < nw; i++)
					(t == T_HOLDING ? u->map->tab_registers : u->map->tab_input_registers)[addr + (unsigned)i] = w[i];
			continue;
		}
		fprintf(stderr, "%s:%d: expected \"UNIT TABLE ADDRESS TYPE ORDER VALUE\", \"UNIT dead\", "
				"\"UNIT exception TABLE START COUNT CODE\" or \"UNIT counter TABLE ADDRESS\"\n", path, lineno);
		errs++;
	}
	fclose(f);
	if (errs)
		die("%s: %d error(s)", path, errs);
}

/* ---- the lychee scenario ---- */

static double noise(double amp)
{
	uint64_t x = seed;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	seed = x;
	return amp * ((double)((x * 0x2545F4914F6CDD1DULL) >> 11) / 9007199254740992.0 * 2.0 - 1.0);
}

static void put_f32_cdab(uint16_t *regs, float f)
{
	uint32_t x;

	memcpy(&x, &f, 4);
	regs[0] = (uint16_t)(x & 0xFFFF); /* CDAB: low word first */
	regs[1] = (uint16_t)(x >> 16);
}

static void lychee_setup(void)
{
	for (int u = 1; u <= 5; u++)
		unit_get(u);
}

static int door_open_at(double m)
{
	return m >= 10 && fmod(m - 10, 20) < 3; /* opens at 10, 30, 50, ... for 3 min */
}

/* Door effect on air temperature: rises while open, decays after closing. */
static double door_bump(double m)
{
	double since, k;

	if (m < 10)
		return 0;
	since = fmod(m - 10, 20);
	if (since < 3)
		return 1.5 * since / 3;
	k = exp(-(since - 3) / 4);
	return 1.5 * k;
}

static void lychee_update(void)
{
	double m = now_s() - t0_real; /* simulated minutes */
	double pull = 3.5 + (30.0 - 3.5) * exp(-m / 30.0);
	double ta = pull + door_bump(m) + noise(0.05);
	double tb = 3.5 + noise(0.05); /* room B holds a pre-cooled lot */
	int door = door_open_at(m);
	double rha = 92.5 + 2.0 * sin(m / 7.0) - (door ? 6.0 : 4.0 * door_bump(m) / 1.5 * 0.5) + noise(0.2);
	double rhb = 92.5 + 2.0 * sin(m / 9.0 + 1.0) + noise(0.2);
	int fault_b = m >= 30;
	double co2;

	if (fault_b) {
		/* towards the packhouse's ambient (ROOM_B_AMBIENT) at first
		 * 6 K/h, not on for ever: a failed room ends at the ambient */
		tb += (ROOM_B_AMBIENT - 3.5) * (1.0 - exp(-(m - 30) / ROOM_B_TAU_MIN));
		rhb -= fmin(10.0, 2.0 * (m - 30) / 60.0);
	}
	if (rha > 95) rha = 95;
	if (rhb > 95) rhb = 95;

	units[1].map->tab_input_registers[1] = (uint16_t)(int16_t)lround(ta * 10);
	units[1].map->tab_input_registers[2] = (uint16_t)(int16_t)lround(rha * 10);
	units[2].map->tab_input_registers[1] = (uint16_t)(int16_t)lround(tb * 10);
	units[2].map->tab_input_registers[2] = (uint16_t)(int16_t)lround(rhb * 10);

	/* room A controller: compressor stops while the door is open */
	put_f32_cdab(&units[3].map->tab_registers[0], (float)(ta + noise(0.05)));
	put_f32_cdab(&units[3].map->tab_registers[2], (float)(door ? ta - 2.0 : ta - 6.0));
	units[3].map->tab_input_bits[0] = (uint8_t)door;
	units[3].map->tab_bits[0] = (uint8_t)!door;

	/* room B controller: compressor fault at 30 min */
	put_f32_cdab(&units[5].map->tab_registers[0], (float)(tb + noise(0.05)));
	put_f32_cdab(&units[5].map->tab_registers[2], (float)(fault_b ? tb - 0.5 : tb - 6.0));
	units[5].map->tab_input_bits[0] = 0;
	units[5].map->tab_bits[0] = (uint8_t)!fault_b;

	/* CO2: respiration builds up, each door opening airs the room */
	{
		double since = m < 10 ? m : fmod(m - 10, 20);
		co2 = 450 + 1800 * (1 - exp(-since / 25.0)) * (0.6 + 0.4 * exp(-m / 120.0)) + noise(5);
		if (door)
			co2 = 450 + (co2 - 450) * 0.5;
	}
	put_f32_cdab(&units[4].map->tab_registers[0], (float)co2);
	/* the probe's own temperature: a little above the air (it heats itself) */
	put_f32_cdab(&units[4].map->tab_registers[4], (float)(ta + 1.2 + noise(0.05)));
}

/* ---- process equipment of the lychee scenario (units 6-8) ----
 * Own clock and own random stream: the process physics run on
 * --process-scale simulated seconds per real second, from the wall clock
 * (CLOCK_REALTIME, so a batch's t0 is a time the daemon can be told), and
 * their noise does not depend on how often the rooms are read. */

#define PC_PROBES 3
#define PC_AMBIENT 30.0 /* field heat, and where a stopped pallet drifts back to */

static double proc_scale = 60; /* simulated seconds per real second */
static uint64_t proc_rng = 0x9E3779B97F4A7C15ULL;

/* Per-probe cooling coefficient (1/h, simulated) and lag factor: two
 * probes near the fans, the centre probe (3) slower, as in a pallet. */
static const double pc_c[PC_PROBES] = { 2.0, 1.8, 1.5 };
static const double pc_j[PC_PROBES] = { 1.05, 1.10, 1.30 };
/* Supply-air set-point, C: 2 C, the lychee chilling threshold (profiles.conf
 * band_low), so the pulp is not over-cooled. */
static const double pc_air = 2.0;

static struct {
	int state;        /* 0 idle, 1 cooling, 2 stopped */
	unsigned batch;
	double t0;        /* wall-clock seconds: the fans start */
	double t_stop;
	double t0_c[PC_PROBES];
	double stop_c[PC_PROBES], stop_air;
} pc;

static struct {
	double t0; /* the cycle's start, wall clock */
	unsigned cycle;
	int door;  /* 1: open */
} fum;

static struct {
	double t0;
	unsigned batch;
	int frozen; /* the load cell repeats its last value (a stuck cell) */
} kiln;

static double wall_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double proc_noise(double amp)
{
	uint64_t x = proc_rng;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	proc_rng = x;
	return amp * ((double)((x * 0x2545F4914F6CDD1DULL) >> 11) / 9007199254740992.0 * 2.0 - 1.0);
}

/* Simulated hours between two wall-clock times. */
static double sim_h(double from, double to)
{
	return (to - from) * proc_scale / 3600.0;
}

static void put_u32_abcd(uint16_t *regs, uint32_t v)
{
	regs[0] = (uint16_t)(v >> 16);
	regs[1] = (uint16_t)v;
}

/* A new batch: the pallets are in, the fans start at the next whole second
 * plus 2 s (so a client told t0 has time to start its batch at t0). */
static void pc_load(double now)
{
	pc.state = 1;
	pc.batch++;
	pc.t0 = ceil(now) + 2.0;
	for (int i = 0; i < PC_PROBES; i++)
		pc.t0_c[i] = 29.0 + 2.0 * (proc_noise(0.5) + 0.5);
	printf("precooler: batch %u loaded, fans start at t0 %.0f; T0", pc.batch, pc.t0);
	for (int i = 0; i < PC_PROBES; i++)
		printf(" %.2f", pc.t0_c[i]);
	printf(" C; air %.1f C; probes C/h j (simulated clock, x%g on the wall clock):", pc_air, proc_scale);
	for (int i = 0; i < PC_PROBES; i++)
		printf(" %d:%.3f/%.3f", i + 1, pc_c[i], pc_j[i]);
	printf("; slowest probe %d C %.3f j %.3f\n", PC_PROBES, pc_c[PC_PROBES - 1], pc_j[PC_PROBES - 1]);
	fflush(stdout);
}

static double pc_probe_c(int i, double now)
{
	double h;

	if (pc.state == 0)
		return PC_AMBIENT;
	if (pc.state == 2) /* fans off: the pallet drifts back towards the ambient */
		return PC_AMBIENT + (pc.stop_c[i] - PC_AMBIENT) * exp(-0.3 * sim_h(pc.t_stop, now));
	if (now < pc.t0)
		return pc.t0_c[i];
	h = sim_h(pc.t0, now);
	return pc_air + (pc.t0_c[i] - pc_air) * fmin(1.0, pc_j[i] * exp(-pc_c[i] * h));
}

static double pc_air_c(double now)
{
	if (pc.state == 2)
		return PC_AMBIENT + (pc.stop_air - PC_AMBIENT) * exp(-2.0 * sim_h(pc.t_stop, now));
	return pc_air;
}

static void pc_stop(double now)
{
	for (int i = 0; i < PC_PROBES; i++)
		pc.stop_c[i] = pc_probe_c(i, now);
	pc.stop_air = pc_air_c(now);
	pc.t_stop = now;
	pc.state = 2;
	printf("precooler: batch %u stopped at %.0f, slowest probe %.2f C\n", pc.batch, now, pc.stop_c[PC_PROBES - 1]);
	fflush(stdout);
}

static void precooler_update(modbus_mapping_t *mp, double now)
{
	uint16_t *r = mp->tab_registers;

	put_f32_cdab(&r[0], (float)(pc_air_c(now) + proc_noise(0.05)));
	for (int i = 0; i < PC_PROBES; i++)
		put_f32_cdab(&r[2 + 2 * i], (float)(pc_probe_c(i, now) + proc_noise(0.01)));
	r[11] = (uint16_t)pc.state;
	r[12] = (uint16_t)pc.batch;
	put_u32_abcd(&r[14], (uint32_t)pc.t0);
	for (int i = 0; i < PC_PROBES; i++) {
		r[20 + 2 * i] = (uint16_t)lround(pc_c[i] * 1000);
		r[21 + 2 * i] = (uint16_t)lround(pc_j[i] * 1000);
	}
	r[30] = (uint16_t)lround(proc_scale);
	mp->tab_bits[0] = (uint8_t)(pc.state == 1 && now >= pc.t0);
}

/* SO2 fumigation by burning sulphur (simulated minutes of the cycle): burn
 * 0-20 (rise to 2000 ppm), hold 20-40 (slow uptake by the fruit), purge from
 * 40 at 6 air changes an hour; a new cycle every 3 h.  The outside sensor
 * sees a leak of 0.1 % of the inside concentration. */
#define FUM_PEAK 2000.0
#define FUM_UPTAKE 0.005      /* 1/min while holding */
#define FUM_PURGE_RATE 0.1    /* 1/min: 6 air changes an hour */

static double fum_inside(double m, int *phase)
{
	double hold_end = FUM_PEAK * exp(-FUM_UPTAKE * 20);

	if (m < 0) {
		*phase = 0;
		return 0;
	}
	if (m < 20) {
		*phase = 1;
		return FUM_PEAK * m / 20;
	}
	if (m < 40) {
		*phase = 2;
		return FUM_PEAK * exp(-FUM_UPTAKE * (m - 20));
	}
	*phase = 3;
	return hold_end * exp(-FUM_PURGE_RATE * (m - 40));
}

/* The noiseless curve's exact integral from t0 to minute m, ppm·h: what a
 * client integrating the readings should find. */
static double fum_ct_ppmh(double m)
{
	double hold_end = FUM_PEAK * exp(-FUM_UPTAKE * 20), b, h, p;

	if (m <= 0)
		return 0;
	b = fmin(m, 20);
	h = fmin(fmax(m - 20, 0), 20);
	p = fmax(m - 40, 0);
	return (FUM_PEAK * b * b / 40 + FUM_PEAK * (1 - exp(-FUM_UPTAKE * h)) / FUM_UPTAKE +
		hold_end * (1 - exp(-FUM_PURGE_RATE * p)) / FUM_PURGE_RATE) /
	       60;
}

static void fumigation_update(modbus_mapping_t *mp, double now)
{
	double m = sim_h(fum.t0, now) * 60, in;
	int phase;

	if (m >= 180) {
		fum.t0 = now;
		fum.cycle++;
		m = 0;
	}
	in = fum_inside(m, &phase);
	put_f32_cdab(&mp->tab_registers[14], (float)fum_ct_ppmh(m));
	in = fmax(0, in + proc_noise(in * 0.005 + 0.2));
	put_f32_cdab(&mp->tab_registers[0], (float)in);
	put_f32_cdab(&mp->tab_registers[2], (float)fmax(0, 0.001 * in + proc_noise(0.02)));
	mp->tab_registers[11] = (uint16_t)phase;
	mp->tab_registers[12] = (uint16_t)fum.cycle;
	put_u32_abcd(&mp->tab_registers[16], (uint32_t)fum.t0);
	mp->tab_bits[0] = (uint8_t)(phase == 1);
	mp->tab_bits[1] = (uint8_t)(phase == 3);
	mp->tab_bits[2] = (uint8_t)fum.door;
}

/* Kiln drying of lychee: air temperature follows a staged schedule (70 C
 * for 4 h, 60 C to 10 h, 55 C after) with a 10-min lag; the load cell shows
 * 100 kg of dry solids holding moisture X (dry basis) falling per a Lewis
 * curve X = Xe + (X0 - Xe) e^(-k t), X0 4.0, Xe 0.1, k 0.12 /h. */
static void kiln_update(modbus_mapping_t *mp, double now)
{
	static const double until_h[] = { 4, 10, 1e9 }, set_c[] = { 70, 60, 55 };
	double h = sim_h(kiln.t0, now), air = 25.0, prev = 25.0, x, m;
	int stage = 0;

	for (int s = 0; s < 3; s++) {
		double from = s ? until_h[s - 1] : 0;
		if (h < from)
			break;
		stage = s + 1;
		air = set_c[s] + (prev - set_c[s]) * exp(-(h - from) * 6.0);
		prev = set_c[s];
	}
	x = 0.1 + (4.0 - 0.1) * exp(-0.12 * fmax(0.0, h));
	put_f32_cdab(&mp->tab_registers[0], (float)(air + proc_noise(0.1)));
	put_f32_cdab(&mp->tab_registers[2], (float)fmin(95, 15 + 60 * (x - 0.1) / 3.9 + proc_noise(0.3)));
	m = 100.0 * (1 + x) + proc_noise(0.05); /* drawn even when frozen: the stream repeats */
	if (!kiln.frozen)
		put_f32_cdab(&mp->tab_registers[4], (float)m);
	mp->tab_registers[11] = (uint16_t)stage;
	mp->tab_registers[12] = (uint16_t)kiln.batch;
	mp->tab_registers[13] = (uint16_t)kiln.frozen;
	mp->tab_bits[0] = 1;
}

/* Commands written to holding 10 of units 6-8: acted on and cleared. */
static void process_commands(double now)
{
	uint16_t *c6 = &units[6].map->tab_registers[10], *c7 = &units[7].map->tab_registers[10],
		 *c8 = &units[8].map->tab_registers[10];

	if (*c6 == 1)
		pc_load(now);
	else if (*c6 == 2 && pc.state == 1)
		pc_stop(now);
	if (*c7 == 1) { /* as the precooler: t0 a whole second a client can be told */
		fum.t0 = ceil(now) + 2.0;
		fum.cycle++;
		printf("fumigation: cycle %u starts at t0 %.0f\n", fum.cycle, fum.t0);
		fflush(stdout);
	} else if (*c7 == 2 || *c7 == 3) {
		fum.door = *c7 == 2;
		printf("fumigation: door %s\n", fum.door ? "opened" : "shut");
		fflush(stdout);
	}
	if (*c8 == 1) {
		/* as the precooler: the burner starts at a whole second a client can be told */
		kiln.t0 = ceil(now) + 2.0;
		kiln.batch++;
		kiln.frozen = 0;
		printf("kiln: batch %u loaded, burner starts at t0 %.0f; 100 kg dry solids, X = 0.1 + 3.9 e^(-0.12 t) "
		       "(t simulated h, x%g on the wall clock)\n", kiln.batch, kiln.t0, proc_scale);
		fflush(stdout);
	} else if (*c8 == 2 && !kiln.frozen) {
		kiln.frozen = 1;
		printf("kiln: batch %u load cell frozen\n", kiln.batch);
		fflush(stdout);
	}
	*c6 = *c7 = *c8 = 0;
}

static void process_setup(void)
{
	double now = wall_s();

	for (int u = 6; u <= 8; u++)
		unit_get(u);
	proc_rng ^= seed;
	fum.t0 = kiln.t0 = now;
	fum.cycle = kiln.batch = 1;
}

static void process_update(void)
{
	double now = wall_s();

	process_commands(now);
	precooler_update(units[6].map, now);
	fumigation_update(units[7].map, now);
	kiln_update(units[8].map, now);
}

/* ---- request handling ---- */

static int fc_table(int fc, enum table *t)
{
	switch (fc) {
	case 0x01: case 0x05: case 0x0F: *t = T_COIL; return 0;
	case 0x02: *t = T_DISCRETE; return 0;
	case 0x03: case 0x06: case 0x10: case 0x17: *t = T_HOLDING; return 0;
	case 0x04: *t = T_INPUT; return 0;
	}
	return -1;
}

static uint16_t *table_regs(int unit, enum table t)
{
	return t == T_HOLDING ? units[unit].map->tab_registers : units[unit].map->tab_input_registers;
}

/* A read of ADDR..ADDR+COUNT-1 touching a counter advances it first. */
static void counters_count(int unit, enum table t, unsigned addr, unsigned count)
{
	for (size_t i = 0; i < nctrs; i++) {
		const struct counter *c = &ctrs[i];
		uint16_t *r;
		uint32_t v;

		if (c->unit != unit || c->table != t || addr > c->addr + 1 || c->addr >= addr + count)
			continue;
		r = table_regs(unit, t) + c->addr;
		v = ((uint32_t)r[0] << 16 | r[1]) + 1;
		r[0] = (uint16_t)(v >> 16);
		r[1] = (uint16_t)v;
	}
}

static void counters_print(void)
{
	static const char *const names[] = { "coil", "discrete", "holding", "input" };

	for (size_t i = 0; i < nctrs; i++) {
		const uint16_t *r = table_regs(ctrs[i].unit, ctrs[i].table) + ctrs[i].addr;
		printf("counter unit %d %s %u: %lu\n", ctrs[i].unit, names[ctrs[i].table], ctrs[i].addr,
		       (unsigned long)((uint32_t)r[0] << 16 | r[1]));
	}
	fflush(stdout);
}

/* When the request being answered arrived (CLOCK_MONOTONIC). */
static struct timespec req_at;

/* The last spin_us of each turnaround are spun, not slept (--turnaround-spin-us). */
static long spin_us;

static void request_arrived(void)
{
	clock_gettime(CLOCK_MONOTONIC, &req_at);
}

static int64_t ts_ns(const struct timespec *t)
{
	return (int64_t)t->tv_sec * 1000000000 + t->tv_nsec;
}

static struct timespec ns_ts(int64_t ns)
{
	struct timespec t = { .tv_sec = (time_t)(ns / 1000000000), .tv_nsec = (long)(ns % 1000000000) };
	return t;
}

/* TCP: when the request reached the socket, as the kernel stamped its last
 * segment (SO_TIMESTAMPNS, read with a peek), so that a gateway's
 * turnaround runs from the request's arrival as on a real one, not from
 * when this process got round to reading it.  0 when the peek does not
 * hold the whole request (a request in parts): the caller stamps it once
 * read, as without a kernel stamp. */
static int request_arrived_tcp(int fd)
{
	uint8_t buf[MODBUS_TCP_MAX_ADU_LENGTH];
	char cbuf[CMSG_SPACE(sizeof(struct timespec))];
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct timespec real, mono, stamp;
	struct cmsghdr *c;
	ssize_t n = recvmsg(fd, &mh, MSG_PEEK | MSG_DONTWAIT);

	if (n < 7 || n < 6 + (buf[4] << 8 | buf[5]))
		return 0;
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_TIMESTAMPNS)
			continue;
		memcpy(&stamp, CMSG_DATA(c), sizeof(stamp));
		clock_gettime(CLOCK_REALTIME, &real);
		clock_gettime(CLOCK_MONOTONIC, &mono);
		if (ts_ns(&stamp) > ts_ns(&real))
			return 0;
		/* the stamp is wall time: moved onto the monotonic clock */
		req_at = ns_ts(ts_ns(&mono) - (ts_ns(&real) - ts_ns(&stamp)));
		return 1;
	}
	return 0;
}

/* The turnarounds as delivered, request arrived to reply sent: the one asked
 * for plus what this machine's timers and the reply's send add to it.
 * Printed at exit; bench_modbus.sh's bound with them is what a gateway this
 * late would allow. */
static struct {
	uint64_t n;
	double sum_us, max_us;
} delivered;

static void reply_sent(long turnaround_ms)
{
	struct timespec now;
	double us;

	if (turnaround_ms <= 0)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	us = (double)(now.tv_sec - req_at.tv_sec) * 1e6 + (double)(now.tv_nsec - req_at.tv_nsec) / 1e3;
	delivered.n++;
	delivered.sum_us += us;
	if (us > delivered.max_us)
		delivered.max_us = us;
}

static void delivered_print(long turnaround_ms)
{
	if (turnaround_ms > 0 && delivered.n)
		printf("turnaround asked %ld us, delivered mean %.1f us max %.1f us over %llu replies\n",
		       turnaround_ms * 1000, delivered.sum_us / (double)delivered.n, delivered.max_us,
		       (unsigned long long)delivered.n);
	fflush(stdout);
}

/* Answers ms after the request arrived, as a gateway's turnaround is
 * specified: the time the simulator took to read and decode it is part of
 * the turnaround, not added to it (bench_modbus.sh's bound is the sum of
 * turnarounds).  Sleeps to spin_us before the end, then spins: a machine
 * whose timers wake ~100 us late (a VM's) would otherwise add that to every
 * turnaround, which a gateway on its own hardware does not. */
static void turnaround(long ms)
{
	int64_t end = ts_ns(&req_at) + (int64_t)ms * 1000000;
	struct timespec ts = ns_ts(end - (int64_t)spin_us * 1000), now;

	if (ms <= 0)
		return;
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR && !got_signal)
		;
	do
		clock_gettime(CLOCK_MONOTONIC, &now);
	while (ts_ns(&now) < end && !got_signal);
}

static void handle(modbus_t *ctx, int is_tcp, const uint8_t *req, int len, long turnaround_ms)
{
	int hl = modbus_get_header_length(ctx);
	int unit = req[hl - 1], fc = req[hl];
	unsigned addr = (unsigned)(req[hl + 1] << 8 | req[hl + 2]);
	unsigned count = (fc == 0x05 || fc == 0x06) ? 1 : (unsigned)(req[hl + 3] << 8 | req[hl + 4]);
	enum table t;

	if (verbose)
		fprintf(stderr, "modbus_sim: unit %d fc %d address %u count %u\n", unit, fc, addr, count);
	if (unit >= NUNITS || !units[unit].present) {
		if (is_tcp) {
			turnaround(turnaround_ms);
			modbus_reply_exception(ctx, req, MODBUS_EXCEPTION_GATEWAY_TARGET);
			reply_sent(turnaround_ms);
		}
		return;
	}
	if (units[unit].dead)
		return;
	if (fc_table(fc, &t) == 0) {
		for (size_t i = 0; i < nexcs; i++) {
			const struct exc_range *e = &excs[i];
			if (e->unit == unit && e->table == t && addr < e->start + e->count && e->start < addr + count) {
				turnaround(turnaround_ms);
				modbus_reply_exception(ctx, req, (unsigned)e->code);
				reply_sent(turnaround_ms);
				return;
			}
		}
	}
	if (lychee) {
		lychee_update();
		process_update();
	}
	if (fc == 0x03 || fc == 0x04 || fc == 0x17)
		counters_count(unit, fc == 0x04 ? T_INPUT : T_HOLDING, addr, count);
	turnaround(turnaround_ms);
	modbus_reply(ctx, req, len, units[unit].map);
	reply_sent(turnaround_ms);
	if (lychee) /* a command written to a process unit acts at once */
		process_commands(wall_s());
}

static void write_ready(const char *path, const char *content)
{
	char tmp[4096];
	FILE *f;

	if (!path)
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f || fputs(content, f) < 0 || fclose(f) != 0)
		die("%s: %s", tmp, strerror(errno));
	if (rename(tmp, path) < 0)
		die("%s: %s", path, strerror(errno));
}

/* ---- TCP ---- */

static void serve_tcp(const char *hostport, const char *ready, long turnaround_ms, const sigset_t *waitmask)
{
	char host[256], port[16], portbuf[32];
	const char *colon = strrchr(hostport, ':');
	uint8_t req[MODBUS_TCP_MAX_ADU_LENGTH];
	struct sockaddr_storage sa;
	socklen_t salen = sizeof(sa);
	modbus_t *ctx;
	fd_set all;
	int srv, fdmax;

	if (!colon || colon == hostport || (size_t)(colon - hostport) >= sizeof(host) || strlen(colon + 1) >= sizeof(port))
		die("--tcp wants HOST:PORT, got \"%s\"", hostport);
	memcpy(host, hostport, (size_t)(colon - hostport));
	host[colon - hostport] = 0;
	if (host[0] == '[' && host[strlen(host) - 1] == ']') { /* [::1]:502 */
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = 0;
	}
	strcpy(port, colon + 1);

	ctx = modbus_new_tcp_pi(host, port);
	if (!ctx)
		die("%s: %s", hostport, modbus_strerror(errno));
	modbus_set_indication_timeout(ctx, 1, 0); /* a half-sent request cannot stall the others */
	srv = modbus_tcp_pi_listen(ctx, 16);
	if (srv < 0)
		die("listen on %s: %s", hostport, modbus_strerror(errno));
	if (getsockname(srv, (struct sockaddr *)&sa, &salen) < 0 ||
	    getnameinfo((struct sockaddr *)&sa, salen, NULL, 0, portbuf, sizeof(portbuf), NI_NUMERICSERV) != 0)
		die("getsockname: %s", strerror(errno));
	printf("listening on %s:%s\n", host, portbuf);
	fflush(stdout);
	strcat(portbuf, "\n");
	write_ready(ready, portbuf);

	FD_ZERO(&all);
	FD_SET(srv, &all);
	fdmax = srv;
	while (!got_signal) {
		fd_set rd = all;
		int n;

		if (got_hup && map_path) {
			got_hup = 0;
			map_load(map_path); /* values of the new file overwrite the old */
		}
		n = pselect(fdmax + 1, &rd, NULL, NULL, NULL, waitmask);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("select: %s", strerror(errno));
		}
		for (int fd = 0; fd <= fdmax && !got_signal; fd++) {
			if (!FD_ISSET(fd, &rd))
				continue;
			if (fd == srv) {
				int c = accept4(srv, NULL, NULL, SOCK_CLOEXEC);
				if (c < 0)
					continue;
				if (c >= FD_SETSIZE) {
					close(c);
					continue;
				}
				setsockopt(c, SOL_SOCKET, SO_TIMESTAMPNS, &(int){ 1 }, sizeof(int));
				FD_SET(c, &all);
				if (c > fdmax)
					fdmax = c;
				if (verbose)
					fprintf(stderr, "modbus_sim: client %d connected\n", c);
				continue;
			}
			int stamped = request_arrived_tcp(fd);
			modbus_set_socket(ctx, fd);
			int rc = modbus_receive(ctx, req);
			if (!stamped)
				request_arrived();
			if (rc > 0) {
				handle(ctx, 1, req, rc, turnaround_ms);
			} else if (rc < 0) {
				if (verbose)
					fprintf(stderr, "modbus_sim: client %d: %s\n", fd, modbus_strerror(errno));
				close(fd);
				FD_CLR(fd, &all);
			}
		}
	}
	for (int fd = 0; fd <= fdmax; fd++)
		if (FD_ISSET(fd, &all) && fd != srv)
			close(fd);
	close(srv);
	modbus_set_socket(ctx, -1);
	modbus_free(ctx);
}

/* ---- RTU ---- */

static uint16_t crc16(const uint8_t *p, int n)
{
	uint16_t crc = 0xFFFF;

	for (int i = 0; i < n; i++) {
		crc ^= p[i];
		for (int b = 0; b < 8; b++)
			crc = (crc & 1) ? (uint16_t)((crc >> 1) ^ 0xA001) : (uint16_t)(crc >> 1);
	}
	return crc;
}

/* Waits up to ms for fd to become readable: 1, 0 on timeout, -1 on error. */
static int wait_readable(int fd, int ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };
	fd_set rd;

	FD_ZERO(&rd);
	FD_SET(fd, &rd);
	return select(fd + 1, &rd, NULL, NULL, &tv);
}

/*
 * Reads one RTU request frame (called once the line is readable).  We frame
 * requests ourselves instead of modbus_receive(): for a frame addressed to
 * another slave id, libmodbus's RTU receive returns 0 and then treats the
 * next frame on the line as that slave's reply and throws it away.  On a
 * real bus the other slave answers; here nobody does (a dead or second unit
 * of the map), so the next request would be lost.  Returns the frame length,
 * or 0 for a frame to ignore (bad CRC, unknown function, torn frame: the
 * line is drained until it falls silent, as a real slave resynchronises).
 */
static int rtu_read_frame(int fd, uint8_t *req, int byte_ms)
{
	int have = 0, need = 2;

	while (have < need) {
		ssize_t n;
		int rc = have == 0 ? 1 : wait_readable(fd, byte_ms);

		if (rc < 0 && errno == EINTR)
			continue;
		if (rc <= 0)
			goto drain;
		n = read(fd, req + have, (size_t)(need - have));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0) {
			errno = EIO;
			return -1;
		}
		have += (int)n;
		if (have == 2) {
			switch (req[1]) {
			case 0x01: case 0x02: case 0x03: case 0x04: case 0x05: case 0x06:
				need = 8;
				break;
			case 0x0F: case 0x10:
				need = 7; /* then the byte count */
				break;
			default:
				goto drain;
			}
		} else if (have == 7 && (req[1] == 0x0F || req[1] == 0x10)) {
			need = 9 + req[6];
			if (need > MODBUS_RTU_MAX_ADU_LENGTH)
				goto drain;
		}
	}
	{
		uint16_t crc = crc16(req, need - 2);
		if (req[need - 2] != (crc & 0xFF) || req[need - 1] != (crc >> 8)) {
			if (verbose)
				fprintf(stderr, "modbus_sim: frame with a bad CRC ignored\n");
			return 0;
		}
	}
	return need;
drain:
	while (wait_readable(fd, byte_ms) > 0) {
		uint8_t junk[64];
		if (read(fd, junk, sizeof(junk)) <= 0)
			break;
	}
	if (verbose)
		fprintf(stderr, "modbus_sim: unframed bytes dropped\n");
	return 0;
}

static void serve_rtu(const char *dev, int baud, char parity, int data_bits, int stop_bits, const char *ready,
		      long turnaround_ms, const sigset_t *waitmask)
{
	uint8_t req[MODBUS_RTU_MAX_ADU_LENGTH];
	modbus_t *ctx = modbus_new_rtu(dev, baud, parity, data_bits, stop_bits);
	char buf[4096];
	int first = -1;
	/* Silence that tears a frame: 3.5 characters, plus slack for a pty
	 * pair through socat on a loaded machine. */
	int byte_ms = 50 + (int)(38500L / baud);

	if (!ctx)
		die("%s: %s", dev, modbus_strerror(errno));
	for (int u = 1; u < NUNITS && first < 0; u++)
		if (units[u].present && !units[u].dead)
			first = u;
	if (first < 0)
		die("no live unit to serve on %s", dev);
	modbus_set_slave(ctx, first);
	if (modbus_connect(ctx) < 0)
		die("%s: %s", dev, modbus_strerror(errno));
	snprintf(buf, sizeof(buf), "%s\n", dev);
	write_ready(ready, buf);
	if (verbose)
		fprintf(stderr, "modbus_sim: serving %s\n", dev);

	while (!got_signal) {
		fd_set rd;
		int fd = modbus_get_socket(ctx), rc;

		FD_ZERO(&rd);
		FD_SET(fd, &rd);
		rc = pselect(fd + 1, &rd, NULL, NULL, NULL, waitmask);
		if (rc < 0) {
			if (errno == EINTR)
				continue;
			die("select: %s", strerror(errno));
		}
		rc = rtu_read_frame(fd, req, byte_ms);
		if (rc < 0)
			die("%s: %s", dev, strerror(errno));
		if (rc > 0 && req[0] != 0) { /* broadcasts get no reply */
			modbus_set_slave(ctx, req[0]);
			request_arrived();
			handle(ctx, 0, req, rc, turnaround_ms);
		}
	}
	modbus_close(ctx);
	modbus_free(ctx);
}

static void usage(void)
{
	fputs("usage: modbus_sim (--tcp HOST:PORT | --rtu DEVICE [--baud N --parity N|E|O --data-bits 8 --stop-bits 1])\n"
	      "                  (--map FILE | --scenario lychee) [--ready-file FILE] [--turnaround-ms N] [--seed N]\n"
	      "                  [--turnaround-spin-us N] [--process-scale N] [-v]\n",
	      stderr);
	exit(2);
}

static long num_arg(const char *opt, const char *s, long lo, long hi)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (!*s || *end || errno || v < lo || v > hi)
		die("%s: bad value \"%s\" (%ld..%ld)", opt, s, lo, hi);
	return v;
}

int main(int argc, char **argv)
{
	const char *tcp = NULL, *rtu = NULL, *map = NULL, *scenario = NULL, *ready = NULL;
	int baud = 9600, data_bits = 8, stop_bits = 1;
	char parity = 'N';
	long turnaround_ms = 0;
	struct sigaction sa;
	sigset_t block, waitmask;

	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0); /* a turnaround ends on time, not up to 50 us late */
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "-v") == 0) {
			verbose = 1;
			continue;
		}
		if (!v)
			usage();
		i++;
		if (strcmp(a, "--tcp") == 0) tcp = v;
		else if (strcmp(a, "--rtu") == 0) rtu = v;
		else if (strcmp(a, "--map") == 0) map = v;
		else if (strcmp(a, "--scenario") == 0) scenario = v;
		else if (strcmp(a, "--ready-file") == 0) ready = v;
		else if (strcmp(a, "--turnaround-ms") == 0) turnaround_ms = num_arg(a, v, 0, 60000);
		else if (strcmp(a, "--turnaround-spin-us") == 0) spin_us = num_arg(a, v, 0, 10000);
		else if (strcmp(a, "--process-scale") == 0) proc_scale = (double)num_arg(a, v, 1, 36000);
		else if (strcmp(a, "--seed") == 0) seed = (uint64_t)num_arg(a, v, 0, 0x7FFFFFFFL) * 2654435761u + 1;
		else if (strcmp(a, "--baud") == 0) baud = (int)num_arg(a, v, 50, 4000000);
		else if (strcmp(a, "--data-bits") == 0) data_bits = (int)num_arg(a, v, 5, 8);
		else if (strcmp(a, "--stop-bits") == 0) stop_bits = (int)num_arg(a, v, 1, 2);
		else if (strcmp(a, "--parity") == 0) {
			if (strlen(v) != 1 || !strchr("NEO", v[0]))
				die("--parity: N, E or O");
			parity = v[0];
		} else
			usage();
	}
	if (!!tcp == !!rtu || !!map == !!scenario)
		usage();
	if (scenario && strcmp(scenario, "lychee") != 0)
		die("unknown scenario \"%s\" (known: lychee)", scenario);

	if (map) {
		map_path = map;
		map_load(map);
	} else {
		lychee = 1;
		lychee_setup();
		process_setup();
	}
	t0_real = now_s();

	/* Signals are blocked except inside pselect(), so a SIGTERM between
	 * the flag check and the wait cannot be missed. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, &waitmask);
	sigdelset(&waitmask, SIGTERM);
	sigdelset(&waitmask, SIGINT);
	sigdelset(&waitmask, SIGHUP);

	if (tcp)
		serve_tcp(tcp, ready, turnaround_ms, &waitmask);
	else
		serve_rtu(rtu, baud, parity, data_bits, stop_bits, ready, turnaround_ms, &waitmask);

	counters_print();
	delivered_print(turnaround_ms);
	for (int u = 0; u < NUNITS; u++)
		if (units[u].map)
			modbus_mapping_free(units[u].map);
	free(excs);
	free(ctrs);
	return 0;
}
