#!/usr/bin/env Rscript
# References for tests/glm_glmnet.rs beyond the plain fits: observation weights, a Poisson
# exposure offset and penalty factors, in R glmnet (thresh = 1e-30).
# Usage (from tests/data): Rscript scripts/glm_glmnet_extra.R  -> glm_glmnet_extra.json
#  * poisson_small.csv, exposure t_i = 1 + (i-1) %% 5 (offset log t), weights w_i = 1 + ((i-1) %% 3)/2
#  * logit_small.csv, weights w_i = 1 + ((i-1) %% 4)/3, penalty.factor f_j = (0 for x1, 2 for x2,
#    0.5 for x3, 1 otherwise); glmnet rescales factors to sum to p (mapfit does not), so the
#    factors actually applied are f * p / sum(f) (stored as penalty_factor_applied).
# glmnet objective with weights: sum_i w_i l_i / sum_i w_i + lambda * pen; coefficients on the
# original scale; standardization with the weighted population sd.
suppressPackageStartupMessages({library(glmnet); library(jsonlite)})
J <- function(x) structure(sprintf("%.17g", x), class = "json")
JA <- function(x) structure(paste0("[", paste(sprintf("%.17g", x), collapse = ","), "]"), class = "json")
read <- function(f) { d <- read.csv(f, check.names = FALSE); list(X = as.matrix(d[, setdiff(names(d), "y")]), y = d$y) }
cases <- list()
run <- function(name, family, X, y, w, offset, pf) {
  fits <- list()
  for (std in c(TRUE, FALSE)) for (alpha in c(1, 0.5)) {
    args <- list(x = X, y = y, family = family, weights = w, alpha = alpha, standardize = std,
                 intercept = TRUE, thresh = 1e-30, maxit = 1e8)
    if (!is.null(offset)) args$offset <- offset
    if (!is.null(pf)) args$penalty.factor <- pf
    lmax <- do.call(glmnet, args)$lambda[1]
    args$lambda <- lmax * c(0.3, 0.03)
    fit <- do.call(glmnet, args)
    if (fit$jerr != 0) stop(sprintf("glmnet jerr = %d", fit$jerr))
    B <- as.matrix(coef(fit))
    for (k in 1:2) fits[[length(fits) + 1]] <- list(standardize = std, alpha = J(alpha),
      lambda = J(args$lambda[k]), intercept = J(B[1, k]), beta = JA(B[-1, k]))
  }
  cases[[name]] <<- list(family = family, weights = JA(w),
    offset = if (is.null(offset)) NULL else JA(offset),
    penalty_factor_applied = if (is.null(pf)) NULL else JA(pf * ncol(X) / sum(pf)), fits = fits)
}
d <- read("poisson_small.csv"); n <- nrow(d$X); i <- 0:(n - 1)
run("poisson_offset_weights", "poisson", d$X, d$y, 1 + (i %% 3) / 2, log(1 + i %% 5), NULL)
d <- read("logit_small.csv"); n <- nrow(d$X); i <- 0:(n - 1)
pf <- rep(1, ncol(d$X)); pf[1] <- 0; pf[2] <- 2; pf[3] <- 0.5
run("logit_weights_factors", "binomial", d$X, d$y, 1 + (i %% 4) / 3, NULL, pf)
out <- list(provenance = "tests/data/scripts/glm_glmnet_extra.R", glmnet = as.character(packageVersion("glmnet")),
            thresh = 1e-30, cases = cases)
writeLines(toJSON(out, auto_unbox = TRUE, json_verbatim = TRUE, pretty = TRUE, digits = NA, null = "null"), "glm_glmnet_extra.json")
