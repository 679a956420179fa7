# Generates the expected outputs of the R package surveillance (Debian r-cran-surveillance
# 1.20.3) used by tests/surveillance. Run from this directory:  Rscript make_expected.R
# Inputs are the CSVs beside this script (copied from the shared reference data); the script
# checks they equal the package's own data sets.
suppressMessages(library(surveillance))
stopifnot(packageVersion("surveillance") == "1.20.3")
options(digits = 15)

newport <- read.csv("surveillance_salmNewport_germany_weekly.csv")
data("salmNewport")
germany <- aggregate(salmNewport, by = "unit")
stopifnot(all(as.vector(observed(germany)) == newport$count))
stopifnot(all(as.Date(epoch(germany)) == as.Date(newport$week_start)))
sts_de <- sts(observed = newport$count, epoch = as.Date(newport$week_start), frequency = 52)
in2011 <- which(isoWeekYear(epoch(sts_de))$ISOYear == 2011)

agona <- read.csv("surveillance_salmonella_agona_weekly.csv")
data("salmonella.agona")
stopifnot(all(salmonella.agona$observed == agona$count))
dp_agona <- create.disProg(week = seq_along(agona$count), observed = agona$count,
                           state = rep(0, nrow(agona)), freq = 52)

rows <- function(config, t, observed, upperbound, alarm) {
  data.frame(config = config, t = t, observed = observed, upperbound = upperbound,
             alarm = as.integer(alarm))
}

# ---- EARS on salmNewport 2011 (the vignette's and the package tests' setting) ----
ears_cfg <- list(
  C1_a05 = list(range = in2011, method = "C1", alpha = 0.05),
  C2_a05 = list(range = in2011, method = "C2", alpha = 0.05),
  C3_a05 = list(range = in2011, method = "C3", alpha = 0.05),
  C1_default = list(range = in2011, method = "C1"),
  C3_default = list(range = in2011, method = "C3"),
  C2_b10_minsigma2 = list(range = in2011, method = "C2", alpha = 0.01, baseline = 10,
                          minSigma = 2),
  C3_b5_minsigma05 = list(range = in2011, method = "C3", alpha = 0.1, baseline = 5,
                          minSigma = 0.5),
  C1_full = list(method = "C1", alpha = 0.05)
)
out <- do.call(rbind, lapply(names(ears_cfg), function(nm) {
  s <- earsC(sts_de, control = ears_cfg[[nm]])
  t <- match(as.numeric(epoch(s)), as.numeric(epoch(sts_de)))
  rows(nm, t, observed(s)[, 1], upperbound(s)[, 1], alarms(s)[, 1])
}))
write.csv(out, "surveillance_expected_ears.csv", row.names = FALSE)

# ---- algo.farrington on salmonella.agona ----
far_cfg <- list(
  default = list(),
  b3w2 = list(b = 3, w = 2, range = 200:312),
  noreweight_notrend = list(b = 4, w = 3, reweight = FALSE, trend = FALSE, range = 250:312),
  alpha01_pt_none = list(b = 5, w = 3, alpha = 0.01, powertrans = "none", range = 270:312),
  pt_half_limit = list(b = 5, w = 4, powertrans = "1/2", limit54 = c(3, 3), range = 270:312),
  glm_fitfun = list(b = 4, w = 2, fitFun = "algo.farrington.fitGLM", range = 230:312)
)
# population offset: a deterministic, growing population (see population_offset() in the tests)
pop_agona <- 1e6 * (1 + 0.002 * seq_along(agona$count))
dp_agona_pop <- create.disProg(week = seq_along(agona$count), observed = agona$count,
                               state = rep(0, nrow(agona)), freq = 52,
                               populationFrac = pop_agona)
far_cfg$pop_offset <- list(b = 4, w = 3, range = 230:312,
                           fitFun = "algo.farrington.fitGLM.populationOffset")
out <- do.call(rbind, lapply(names(far_cfg), function(nm) {
  ctl <- far_cfg[[nm]]
  dp <- if (nm == "pop_offset") dp_agona_pop else dp_agona
  s <- suppressWarnings(algo.farrington(dp, control = ctl))
  rng <- s$control$range
  rows(nm, rng, agona$count[rng], s$upperbound[, 1], s$alarm[, 1])
}))
write.csv(out, "surveillance_expected_farrington.csv", row.names = FALSE)

# ---- farringtonFlexible on salmNewport (the vignette's two configurations and variants) ----
original <- list(range = in2011, noPeriods = 1, b = 4, w = 3, weightsThreshold = 1,
                 pastWeeksNotIncluded = 3, pThresholdTrend = 0.05, thresholdMethod = "delta")
noufaily <- list(range = in2011, noPeriods = 10, b = 4, w = 3, weightsThreshold = 2.58,
                 pastWeeksNotIncluded = 26, pThresholdTrend = 1, thresholdMethod = "nbPlugin")
flex_cfg <- list(
  original = original,
  noufaily = noufaily,
  original_limit0_50 = modifyList(original, list(limit54 = c(0, 50))),
  noufaily_limit0_50 = modifyList(noufaily, list(limit54 = c(0, 50))),
  noufaily_muan = modifyList(noufaily, list(thresholdMethod = "muan", alpha = 0.01)),
  original_noperiods10 = modifyList(original, list(noPeriods = 10, alpha = 0.1)),
  original_pt_none_notrend = modifyList(original, list(powertrans = "none", trend = FALSE)),
  original_pt_half_noreweight = modifyList(original, list(powertrans = "1/2", reweight = FALSE,
                                                          b = 3, w = 2)),
  noufaily_b5_past10 = modifyList(noufaily, list(b = 5, pastWeeksNotIncluded = 10,
                                                  noPeriods = 4))
)
pop_de <- 1e6 * (1 + 0.002 * seq_along(newport$count))
sts_de_pop <- sts(observed = newport$count, epoch = as.Date(newport$week_start),
                  frequency = 52, population = matrix(pop_de, ncol = 1))
flex_cfg$original_popoffset <- modifyList(original, list(populationOffset = TRUE))
flex_cfg$noufaily_popoffset <- modifyList(noufaily, list(populationOffset = TRUE))
out <- do.call(rbind, lapply(names(flex_cfg), function(nm) {
  x <- if (grepl("popoffset", nm)) sts_de_pop else sts_de
  s <- suppressWarnings(farringtonFlexible(x, control = flex_cfg[[nm]]))
  t <- match(as.numeric(epoch(s)), as.numeric(epoch(sts_de)))
  cbind(rows(nm, t, observed(s)[, 1], upperbound(s)[, 1], alarms(s)[, 1]),
        expected = s@control$expected[, 1], score = s@control$score[, 1],
        pvalue = s@control$pvalue[, 1])
}))
write.csv(out, "surveillance_expected_flexible.csv", row.names = FALSE)

# ---- Poisson log-linear growth rate (glm) on the Flu2009 and SARS2003 series ----
flu <- read.csv("epiestim_flu2009_incidence.csv")
sars <- read.csv("epiestim_sars2003_incidence.csv")
growth <- function(name, d, from, to) {
  sub <- d[d$t >= from & d$t <= to, ]
  m <- glm(I ~ t, data = sub, family = poisson)
  ci <- confint.default(m)[2, ]
  data.frame(series = name, from = from, to = to, r = coef(m)[2],
             se = sqrt(vcov(m)[2, 2]), r_lower = ci[1], r_upper = ci[2])
}
out <- rbind(growth("flu2009", flu, 1, 14), growth("flu2009", flu, 20, 32),
             growth("sars2003", sars, 1, 30), growth("sars2003", sars, 60, 100))
write.csv(out, "growth_expected.csv", row.names = FALSE)
