package analysis

import "math"

// This file holds the small amount of statistics Judge needs, in plain Go so
// that the module takes no new dependency. Everything rests on one special
// function, the regularized incomplete beta function I_x(a, b), because both
// tests Judge uses are binomial tail probabilities, and
//
//	P(X >= k) = I_p(k, n-k+1)   for X ~ Binomial(n, p), 0 < k <= n.
//
// The identity also holds for non-integer k and n, so a fractional count (from
// a source that extrapolates) is treated as a smooth interpolation of the
// integer case instead of being rounded one way or the other.

// regIncBeta returns the regularized incomplete beta function I_x(a, b) for
// a, b > 0 and x in [0, 1]. It uses the continued fraction of Numerical
// Recipes (Press et al., 3rd ed., §6.4) evaluated with the modified Lentz
// method, and the symmetry I_x(a, b) = 1 - I_{1-x}(b, a) to stay in the
// region where the fraction converges quickly.
func regIncBeta(a, b, x float64) float64 {
	switch {
	case math.IsNaN(a) || math.IsNaN(b) || math.IsNaN(x) || a <= 0 || b <= 0:
		return math.NaN()
	case x <= 0:
		return 0
	case x >= 1:
		return 1
	}
	// x^a (1-x)^b / B(a, b), the factor in front of the fraction.
	front := math.Exp(-logBeta(a, b) + a*math.Log(x) + b*math.Log1p(-x))
	if x < (a+1)/(a+b+2) {
		return front * betaContinuedFraction(a, b, x) / a
	}
	return 1 - front*betaContinuedFraction(b, a, 1-x)/b
}

// betaContinuedFraction evaluates the continued fraction for I_x(a, b) by the
// modified Lentz method. It converges in O(sqrt(max(a, b))) terms in the
// region regIncBeta calls it in; the iteration cap is far above what counts of
// a few million need.
func betaContinuedFraction(a, b, x float64) float64 {
	const (
		maxIter = 10000
		eps     = 1e-15
	)
	qab, qap, qam := a+b, a+1, a-1
	c, d := 1.0, 1-qab*x/qap
	if math.Abs(d) < tiny {
		d = tiny
	}
	d = 1 / d
	h := d
	for m := 1; m <= maxIter; m++ {
		fm := float64(m)
		m2 := 2 * fm
		// The even step of the fraction.
		aa := fm * (b - fm) * x / ((qam + m2) * (a + m2))
		c, d = lentzStep(aa, c, d)
		h *= d * c
		// The odd step.
		aa = -(a + fm) * (qab + fm) * x / ((a + m2) * (qap + m2))
		c, d = lentzStep(aa, c, d)
		del := d * c
		h *= del
		if math.Abs(del-1) < eps {
			break
		}
	}
	return h
}

// betaQuantile returns the x in [0, 1] with I_x(a, b) = p, the inverse of the
// Beta(a, b) distribution function. It takes Newton steps on I_x (whose
// derivative is the Beta density) inside a bracket that only shrinks, and
// bisects whenever a Newton step would leave the bracket or the density
// underflows: Newton makes it fast (a few steps where the controller and the
// simulation call it thousands of times), the bracket makes it unable to fail,
// since I_x is increasing in x.
func betaQuantile(p, a, b float64) float64 {
	switch {
	case math.IsNaN(p) || math.IsNaN(a) || math.IsNaN(b) || a <= 0 || b <= 0:
		return math.NaN()
	case p <= 0:
		return 0
	case p >= 1:
		return 1
	}
	lb := logBeta(a, b)
	logDensity := func(x float64) float64 { return -lb + (a-1)*math.Log(x) + (b-1)*math.Log1p(-x) }
	lo, hi := 0.0, 1.0
	x := a / (a + b) // the mean: a start inside the bulk of the distribution
	for range 300 {
		f := regIncBeta(a, b, x) - p
		if f < 0 {
			lo = x
		} else {
			hi = x
		}
		next := x - f/math.Exp(logDensity(x))
		if !(next > lo && next < hi) { // also catches NaN and ±Inf
			next = lo + (hi-lo)/2
		}
		// Relative precision of 1e-13 is far below what any bound is printed
		// or compared with, and reachable for bounds near 1e-12.
		if math.Abs(next-x) <= 1e-13*x || next == lo || next == hi {
			return next
		}
		x = next
	}
	return x
}

// BinomialTailAtLeast returns P(X >= k) for X ~ Binomial(n, p): the one-sided
// p-value of observing k or more errors in n requests if the true error rate
// were p. k and n may be fractional (see the top of this file); k is clamped
// to [0, n].
func BinomialTailAtLeast(k, n, p float64) float64 {
	if math.IsNaN(k) || math.IsNaN(n) || math.IsNaN(p) || n < 0 {
		return math.NaN()
	}
	k = math.Min(math.Max(k, 0), n)
	switch {
	case k == 0:
		return 1
	case p <= 0:
		return 0
	case p >= 1:
		return 1
	}
	return regIncBeta(k, n-k+1, p)
}

// ErrorRateLowerBound returns the exact (Clopper-Pearson) one-sided lower
// confidence bound at level 1-alpha for an error rate from k errors in n
// requests: the smallest rate p at which k or more errors still have
// probability alpha. The true rate is below it with probability at most
// alpha, whatever the sample size, which is why it is used rather than the
// normal (Wald) bound, which is badly anti-conservative at the one or two
// errors that a small canary window sees.
func ErrorRateLowerBound(k, n, alpha float64) float64 {
	if !(n > 0) {
		return 0
	}
	k = math.Min(math.Max(k, 0), n)
	if k == 0 {
		return 0
	}
	return betaQuantile(alpha, k, n-k+1)
}

// ErrorRateUpperBound returns the exact (Clopper-Pearson) one-sided upper
// confidence bound at level 1-alpha for an error rate from k errors in n
// requests. With no requests nothing is known and it returns 1.
func ErrorRateUpperBound(k, n, alpha float64) float64 {
	if !(n > 0) {
		return 1
	}
	k = math.Min(math.Max(k, 0), n)
	if k >= n {
		return 1
	}
	return betaQuantile(1-alpha, k+1, n-k)
}

// RateRatioLowerBound returns a one-sided lower confidence bound at level
// 1-alpha for the ratio of the canary's error rate to the stable side's,
// from errC errors in nC canary requests and errS errors in nS stable
// requests.
//
// It is the exact conditional test for two Poisson rates (Przyborowski and
// Wilenski, 1940; the "C-test" of Krishnamoorthy and Thomson, 2004): given
// the errors on both sides together, E = errC + errS, the canary's share of
// them is Binomial(E, π) with π = R·nC / (R·nC + nS), where R is the true
// ratio of the rates. A Clopper-Pearson lower bound π_L for that share turns
// into the bound R_L = π_L/(1-π_L) · nS/nC. Error rates of a service are
// small, so modelling the error counts as Poisson loses nothing, and the test
// is exact (conservative) even at a handful of errors, where a z-test for two
// proportions is not.
//
// It returns 0 when the canary had no error, and NaN when either side had no
// requests (there is nothing to compare).
func RateRatioLowerBound(errC, nC, errS, nS, alpha float64) float64 {
	if !(nC > 0) || !(nS > 0) {
		return math.NaN()
	}
	errC = math.Min(math.Max(errC, 0), nC)
	errS = math.Min(math.Max(errS, 0), nS)
	if errC == 0 {
		return 0
	}
	share := ErrorRateLowerBound(errC, errC+errS, alpha)
	if share >= 1 {
		return math.Inf(1)
	}
	return share / (1 - share) * nS / nC
}

// RateRatioPValue returns the one-sided p-value of the same conditional test
// for "the canary's error rate is at most ratio times the stable side's":
// the probability of the canary taking errC or more of the E errors if its
// rate were exactly ratio times stable's. It is 1 when the canary had no
// error and NaN when either side had no requests.
func RateRatioPValue(errC, nC, errS, nS, ratio float64) float64 {
	if !(nC > 0) || !(nS > 0) {
		return math.NaN()
	}
	errC = math.Min(math.Max(errC, 0), nC)
	errS = math.Min(math.Max(errS, 0), nS)
	share := ratio * nC / (ratio*nC + nS)
	return BinomialTailAtLeast(errC, errC+errS, share)
}

// logBeta is ln B(a, b) = ln Γ(a) + ln Γ(b) - ln Γ(a+b), the normaliser of the
// Beta distribution, for a, b > 0.
func logBeta(a, b float64) float64 {
	la, _ := math.Lgamma(a)
	lb, _ := math.Lgamma(b)
	lab, _ := math.Lgamma(a + b)
	return la + lb - lab
}

// tiny keeps a divisor away from zero, as Lentz's method prescribes.
const tiny = 1e-300

// lentzStep advances the modified Lentz recurrences by one partial numerator aa,
// keeping both away from zero so the fraction never divides by it.
func lentzStep(aa, c, d float64) (float64, float64) {
	d = 1 + aa*d
	if math.Abs(d) < tiny {
		d = tiny
	}
	c = 1 + aa/c
	if math.Abs(c) < tiny {
		c = tiny
	}
	return c, 1 / d
}
