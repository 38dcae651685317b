// Lighthouse (mobile, its default settings) in Debian's Chromium, headless.

export type Scores = { performance: number; accessibility: number; bestPractices: number; seo: number }

export const CHROME_PATH = process.env.CHROME_PATH || '/usr/bin/chromium'

export async function lighthouseScores(urls: string[]): Promise<Map<string, Scores>> {
  const { launch } = await import('chrome-launcher')
  const { default: lighthouse } = await import('lighthouse')
  const chrome = await launch({ chromePath: CHROME_PATH, chromeFlags: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] })
  const scores = new Map<string, Scores>()
  try {
    for (const url of urls) {
      const result = await lighthouse(url, { port: chrome.port, output: 'json', logLevel: 'error', onlyCategories: ['performance', 'accessibility', 'best-practices', 'seo'] })
      const c = result?.lhr.categories
      if (!c) throw new Error(`lighthouse gave no result for ${url}`)
      scores.set(url, { performance: c.performance?.score ?? 0, accessibility: c.accessibility?.score ?? 0, bestPractices: c['best-practices']?.score ?? 0, seo: c.seo?.score ?? 0 })
    }
  } finally {
    await chrome.kill()
  }
  return scores
}
