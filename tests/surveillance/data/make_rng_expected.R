# Generates the expected draws of R's default random number generator (Mersenne-Twister,
# "Inversion" normals, "Rejection" sampling; R 4.2.2 from Debian) used by
# tests/surveillance/test_rrandom.py, and expected outputs of EpiEstim's "uncertain_si"
# (Debian r-cran-epiestim 2.2-4) beyond its own Example 4.
# Run from this directory:  Rscript make_rng_expected.R
RNGkind("Mersenne-Twister", "Inversion", "Rejection")
fmt <- function(x) sprintf("%.17g", x)
out <- list()
add <- function(case, seed, values) {
  out[[length(out) + 1]] <<- data.frame(case = case, seed = seed, i = seq_along(values),
                                        value = fmt(values))
}

# The state after set.seed: .Random.seed[2] is the position, [3:626] the 624 state words.
for (s in c(1, 42, -7, 2147483647)) {
  set.seed(s)
  add("state", s, .Random.seed[2:626])
}
# Uniforms: 1300 draws cross two regenerations of the 624-word state.
for (s in c(1, 42, 2026)) { set.seed(s); add("runif", s, runif(1300)) }
set.seed(1); add("rnorm", 1, rnorm(1000))
set.seed(3); add("rnorm_mean_sd", 3, rnorm(200, mean = 2.6, sd = 1.5))
set.seed(1); add("rexp", 1, rexp(2000))
# rgamma: shapes below 1 (Ahrens-Dieter 1974 GS) and above (Ahrens-Dieter 1982 GD), across
# the GD branches (a <= 3.686, <= 13.022, larger), with a scale.
shapes <- c(0.05, 0.5, 0.999, 1, 1.5, 3.686, 3.7, 8, 13.022, 13.5, 60, 1000, 123456.7)
for (k in seq_along(shapes)) {
  set.seed(100 + k)
  add(sprintf("rgamma_shape_%s", format(shapes[k])), 100 + k,
      rgamma(1000, shape = shapes[k], scale = 0.7))
}
# Shapes changing from draw to draw (the GD constants are recomputed when the shape changes).
set.seed(5)
mixed <- rep(c(2, 2, 0.4, 17, 17, 1.2, 250), length.out = 2000)
add("rgamma_mixed", 5, rgamma(2000, shape = mixed, scale = 1))
# One stream shared by all kinds of draws.
set.seed(9)
v <- c(runif(3), rnorm(5), rexp(4), rgamma(6, 0.3), rgamma(6, 4.2, scale = 2), runif(2),
       rnorm(3, 1, 2))
add("interleaved", 9, v)
res <- do.call(rbind, out)
write.csv(res, "r_rng_expected.csv", row.names = FALSE, quote = FALSE)

# ---- EpiEstim uncertain_si beyond Example 4 ----
suppressMessages(library(EpiEstim))
stopifnot(packageVersion("EpiEstim") == "2.2.4")
flu <- read.csv("epiestim_flu2009_incidence.csv")
data("Flu2009")
stopifnot(all(Flu2009$incidence$I == flu$I))
sars <- read.csv("epiestim_sars2003_incidence.csv")
data("SARS2003")
stopifnot(all(SARS2003$incidence == sars$I))
li <- read.csv("epiestim_ref_example2_input_local_imported.csv")
rt_rows <- function(nm, r) {
  data.frame(config = nm, t_start = r$t_start, t_end = r$t_end,
             mean = fmt(r[["Mean(R)"]]), std = fmt(r[["Std(R)"]]),
             q025 = fmt(r[["Quantile.0.025(R)"]]), q05 = fmt(r[["Quantile.0.05(R)"]]),
             q25 = fmt(r[["Quantile.0.25(R)"]]), median = fmt(r[["Median(R)"]]),
             q75 = fmt(r[["Quantile.0.75(R)"]]), q95 = fmt(r[["Quantile.0.95(R)"]]),
             q975 = fmt(r[["Quantile.0.975(R)"]]))
}
cfgs <- list(
  flu_default_windows = list(incid = flu$I, config = list(
    mean_si = 2.6, std_mean_si = 1, min_mean_si = 1, max_mean_si = 4.2, std_si = 1.5,
    std_std_si = 0.5, min_std_si = 0.5, max_std_si = 2.5, n1 = 50, n2 = 40, seed = 7)),
  sars_wide = list(incid = sars$I, config = list(
    t_start = seq(2, 92, by = 3), t_end = seq(2, 92, by = 3) + 13,
    mean_si = 8.4, std_mean_si = 1.5, min_mean_si = 5, max_mean_si = 12, std_si = 3.8,
    std_std_si = 1, min_std_si = 2, max_std_si = 6, n1 = 30, n2 = 20, seed = 11,
    mean_prior = 3, std_prior = 4)),
  local_imported = list(incid = data.frame(local = li$local, imported = li$imported),
    config = list(t_start = 2:21, t_end = 8:27, mean_si = 2.6, std_mean_si = 1,
      min_mean_si = 1.5, max_mean_si = 4, std_si = 1.5, std_std_si = 0.5, min_std_si = 0.5,
      max_std_si = 2.5, n1 = 40, n2 = 25, seed = 2026)),
  small_prior_shape = list(incid = c(0, 1, 0, 0, 2, 0, 1, 3, 0, 0, 2, 5, 1, 0, 3, 4, 2, 6),
    config = list(t_start = 2:15, t_end = 5:18, mean_si = 3, std_mean_si = 0.8,
      min_mean_si = 1.2, max_mean_si = 5, std_si = 1.2, std_std_si = 0.4, min_std_si = 0.4,
      max_std_si = 2.2, n1 = 30, n2 = 30, seed = 3, mean_prior = 2, std_prior = 4))
)
rt <- do.call(rbind, lapply(names(cfgs), function(nm) {
  cfg <- cfgs[[nm]]
  r <- suppressWarnings(estimate_R(cfg$incid, method = "uncertain_si",
                                   config = make_config(cfg$config)))$R
  rt_rows(nm, r)
}))
write.csv(rt, "epiestim_expected_uncertain.csv", row.names = FALSE, quote = FALSE)

# ---- EpiEstim si_from_sample: a sample of 12 discrete serial intervals (columns) ----
pairs <- expand.grid(m = c(2.2, 2.6, 3.0, 3.4), s = c(1.2, 1.5, 1.9))
si_sample <- sapply(seq_len(nrow(pairs)), function(j) discr_si(0:20, pairs$m[j], pairs$s[j]))
si_csv <- data.frame(k = 0:20)
for (j in seq_len(ncol(si_sample))) si_csv[[sprintf("s%02d", j)]] <- fmt(si_sample[, j])
write.csv(si_csv, "epiestim_si_sample.csv", row.names = FALSE, quote = FALSE)
sample_cfgs <- list(
  flu_sample = list(incid = flu$I, config = list(t_start = 2:26, t_end = 8:32, n2 = 50,
                                                 seed = 2)),
  local_imported_sample = list(incid = data.frame(local = li$local, imported = li$imported),
                               config = list(n2 = 30, seed = 5, mean_prior = 2, std_prior = 2))
)
rs <- do.call(rbind, lapply(names(sample_cfgs), function(nm) {
  cfg <- sample_cfgs[[nm]]
  r <- suppressWarnings(estimate_R(cfg$incid, method = "si_from_sample", si_sample = si_sample,
                                   config = make_config(cfg$config)))$R
  rt_rows(nm, r)
}))
write.csv(rs, "epiestim_expected_si_sample.csv", row.names = FALSE, quote = FALSE)
