//! Headless Chromium over WebDriver for the browser benchmark and end-to-end tests: a private
//! chromedriver, a session with the options in `web/webdriver.json` (the same ones the
//! wasm-bindgen tests use), and the wait for a page's published result.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;

/// The widths every captured state is screenshotted at: a phone and a desktop.
const CAPTURE_WIDTHS: [u32; 2] = [375, 1280];
/// Tall enough for a whole page in each screenshot.
const WINDOW_HEIGHT: u32 = 2200;

/// axe-core, installed by `scripts/setup web`.
fn axe_path() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../.tools/node_modules/axe-core/axe.min.js")
}

/// The violations axe rates serious or critical, one line each.
fn serious_violations(report: &serde_json::Value) -> Vec<String> {
    report["violations"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")))
        .map(|v| {
            format!(
                "{} ({}): {} at {}",
                v["id"], v["impact"], v["help"], v["nodes"]
            )
        })
        .collect()
}

/// A chromedriver process and a browser session on it; both end when this is dropped.
pub struct Browser {
    pub client: Client,
    driver: Child,
}

impl Browser {
    /// Starts chromedriver on a free port and opens a headless Chromium session.
    pub async fn start(root: &Path) -> anyhow::Result<Self> {
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let chromedriver = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
        let mut driver = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| anyhow::anyhow!("starting {chromedriver}: {e} (run scripts/setup web)"))?;
        let options = std::fs::read_to_string(root.join("web/webdriver.json"))?;
        let capabilities: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&options)?;
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        let client = loop {
            match ClientBuilder::new(HttpConnector::new())
                .capabilities(capabilities.clone())
                .connect(&url)
                .await
            {
                Ok(client) => break client,
                Err(_) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(200)).await
                }
                Err(error) => {
                    let _ = driver.kill();
                    anyhow::bail!("no WebDriver session on {url}: {error}");
                }
            }
        };
        client.set_window_size(1280, WINDOW_HEIGHT).await?;
        Ok(Self { client, driver })
    }

    /// Opens `url` and waits until its `#bench-result` (or any element `selector`) has a final
    /// `data-state`; returns its text, or the page's error.
    pub async fn published_result(
        &self,
        url: &str,
        selector: &str,
        timeout: Duration,
    ) -> anyhow::Result<String> {
        self.client.goto(url).await?;
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(element) = self.client.find(Locator::Css(selector)).await {
                match element.attr("data-state").await?.as_deref() {
                    Some("done") => return Ok(element.text().await?),
                    Some("error") => anyhow::bail!("{url}: {}", element.text().await?),
                    _ => {}
                }
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "{url}: no result after {timeout:?}"
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// Runs a script in the page with `args` (its `arguments`); returns its value.
    pub async fn run_script(
        &self,
        script: &str,
        args: Vec<serde_json::Value>,
    ) -> anyhow::Result<serde_json::Value> {
        Ok(self.client.execute(script, args).await?)
    }

    /// Clicks the element `selector` once it exists and is enabled.
    pub async fn click(&self, selector: &str, timeout: Duration) -> anyhow::Result<()> {
        let element = self.wait_for(selector, timeout).await?;
        let deadline = Instant::now() + timeout;
        while !element.is_enabled().await? {
            anyhow::ensure!(
                Instant::now() < deadline,
                "{selector} stayed disabled for {timeout:?}"
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        element.click().await?;
        Ok(())
    }

    /// Replaces the text of the input `selector`.
    pub async fn fill(&self, selector: &str, text: &str) -> anyhow::Result<()> {
        let element = self.wait_for(selector, Duration::from_secs(30)).await?;
        element.clear().await?;
        element.send_keys(text).await?;
        Ok(())
    }

    /// Waits until `selector` exists.
    pub async fn wait_for(
        &self,
        selector: &str,
        timeout: Duration,
    ) -> anyhow::Result<fantoccini::elements::Element> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(element) = self.client.find(Locator::Css(selector)).await {
                return Ok(element);
            }
            anyhow::ensure!(Instant::now() < deadline, "no {selector} after {timeout:?}");
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// Waits until the text of `selector` contains `expected`; returns the text.
    pub async fn wait_text(
        &self,
        selector: &str,
        expected: &str,
        timeout: Duration,
    ) -> anyhow::Result<String> {
        let deadline = Instant::now() + timeout;
        let mut last = String::new();
        loop {
            if let Ok(element) = self.client.find(Locator::Css(selector)).await {
                last = element.text().await.unwrap_or_default();
                if last.contains(expected) {
                    return Ok(last);
                }
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "{selector} never said {expected:?} in {timeout:?}; last: {last:?}"
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// Waits until one of `selectors` exists and returns which one and its text: a page's
    /// success and error outcomes are raced this way.
    pub async fn first_of(
        &self,
        selectors: &[&str],
        timeout: Duration,
    ) -> anyhow::Result<(usize, String)> {
        let deadline = Instant::now() + timeout;
        loop {
            for (index, selector) in selectors.iter().enumerate() {
                if let Ok(element) = self.client.find(Locator::Css(selector)).await {
                    return Ok((index, element.text().await?));
                }
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "none of {selectors:?} after {timeout:?}"
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// Saves a PNG screenshot of the page.
    pub async fn screenshot(&self, path: &Path) -> anyhow::Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, self.client.screenshot().await?)?;
        Ok(())
    }

    /// Screenshots the page as a phone (375 px wide) and a desktop (1280 px) see it, into
    /// `dir/NAME-375.png` and `dir/NAME-1280.png`, and checks it with axe at both widths: any
    /// serious or critical accessibility violation fails, listed with its elements (the full
    /// report lands in `dir/NAME-axe.json`).
    pub async fn capture(&self, dir: &Path, name: &str) -> anyhow::Result<()> {
        let mut reports = serde_json::Map::new();
        let mut failures = Vec::new();
        for width in CAPTURE_WIDTHS {
            self.client.set_window_size(width, WINDOW_HEIGHT).await?;
            // A frame for the layout to settle at the new width.
            tokio::time::sleep(Duration::from_millis(300)).await;
            self.screenshot(&dir.join(format!("{name}-{width}.png")))
                .await?;
            let report = self.axe().await?;
            failures.extend(
                serious_violations(&report)
                    .into_iter()
                    .map(|v| format!("{width} px: {v}")),
            );
            reports.insert(width.to_string(), report);
        }
        self.client.set_window_size(1280, WINDOW_HEIGHT).await?;
        std::fs::write(
            dir.join(format!("{name}-axe.json")),
            serde_json::to_vec_pretty(&reports)?,
        )?;
        anyhow::ensure!(
            failures.is_empty(),
            "{name}: serious or critical accessibility violations:\n{}",
            failures.join("\n")
        );
        Ok(())
    }

    /// axe-core's report on the page as it stands (WCAG 2.1 A and AA, and best practices).
    async fn axe(&self) -> anyhow::Result<serde_json::Value> {
        // Injected once per page load: the page keeps it until it navigates.
        if self.client.execute("return typeof axe", vec![]).await? != "object" {
            let source = std::fs::read_to_string(axe_path()).map_err(|e| {
                anyhow::anyhow!(
                    "reading axe-core at {}: {e} (run scripts/setup web)",
                    axe_path().display()
                )
            })?;
            self.client.execute(&source, vec![]).await?;
        }
        let report = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } })
                    .then(r => done({ violations: r.violations.map(v => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target.join(' ')) })), passes: r.passes.length }))
                    .catch(e => done({ error: String(e) }));",
                vec![],
            )
            .await?;
        anyhow::ensure!(report.get("error").is_none(), "axe failed: {report}");
        Ok(report)
    }

    /// Ends the session and the driver.
    pub async fn close(mut self) -> anyhow::Result<()> {
        let closed = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        closed.map_err(Into::into)
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
    }
}
