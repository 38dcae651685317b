// Lighthouse (mobile, its default settings) in Debian's Chromium, headless.
import fs from 'node:fs'
import path from 'node:path'

export type Scores = { performance: number; accessibility: number; bestPractices: number; seo: number; runs: number }

const CHROME_PATH = process.env.CHROME_PATH || '/usr/bin/chromium'

/**
 * Scores per URL, each from the run with the best performance score of `runs`: on a shared
 * machine, what else runs only ever pulls the score down. A run Lighthouse reports as failed
 * (runtimeError: the page never painted, Chrome went away) is tried again, up to `runs` more
 * times; a URL with no good run at all throws. With `reportFile`, each URL's best report (its
 * audits: LCP element, blocking time, layout shifts, what each script cost) is written there
 * as JSON, to read why a score is what it is.
 */
export async function lighthouseScores(urls: string[], runs: number, reportFile?: (url: string) => string): Promise<Map<string, Scores>> {
  const { launch } = await import('chrome-launcher')
  const { default: lighthouse } = await import('lighthouse')
  const chrome = await launch({ chromePath: CHROME_PATH, chromeFlags: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] })
  const scores = new Map<string, Scores>()
  try {
    for (const url of urls) {
      let bestRun: Scores | undefined
      let bestReport = ''
      let good = 0
      let lastError = ''
      for (let attempt = 0; good < runs && attempt < runs * 2; attempt++) {
        const result = await lighthouse(url, { port: chrome.port, output: 'json', logLevel: 'error', onlyCategories: ['performance', 'accessibility', 'best-practices', 'seo'] })
        const lhr = result?.lhr
        if (!lhr || lhr.runtimeError) {
          lastError = lhr?.runtimeError?.code ?? 'no result'
          continue
        }
        good++
        const c = lhr.categories
        const run = { performance: c.performance?.score ?? 0, accessibility: c.accessibility?.score ?? 0, bestPractices: c['best-practices']?.score ?? 0, seo: c.seo?.score ?? 0, runs: good }
        if (!bestRun || run.performance > bestRun.performance) {
          bestRun = run
          bestReport = typeof result.report === 'string' ? result.report : ''
        }
      }
      if (!bestRun) throw new Error(`lighthouse failed on ${url}: ${lastError}`)
      scores.set(url, { ...bestRun, runs: good })
      if (reportFile && bestReport) {
        fs.mkdirSync(path.dirname(reportFile(url)), { recursive: true })
        fs.writeFileSync(reportFile(url), bestReport)
      }
    }
  } finally {
    chrome.kill()
  }
  return scores
}
