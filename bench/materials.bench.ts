/**
 * Materials: precision and recall of product names and accuracy of the key properties, per
 * document and overall, of the built-in extractor on the catalogue test set
 * (packages/workers/test/jobs/pdf/fixtures/catalogues: PDFs in five languages with hand-written
 * ground truth), the text taken through the PDF job's own text extraction.
 * Targets: precision ≥ 0.85, recall ≥ 0.75 overall.
 *
 * The LLM provider is measured the same way when ANTHROPIC_API_KEY (and ANTHROPIC_MODEL) are
 * set; without a key, its answer validation runs on the recorded sample answers instead.
 *
 *   pnpm tsx bench/materials.bench.ts [--verbose]
 */
import { readdirSync, readFileSync } from 'node:fs';
import { AnthropicMaterialExtractor, mergeMaterials, parseMaterialAnswer, RuleBasedMaterialExtractor, scoreDocument, scoreTotals, type DocumentScore, type MaterialExtractor } from '@kai-jobs/workers';
import { CATALOGUE_FOLDER, loadCatalogueSet, scoreExtractor, withContractText } from '../packages/workers/test/jobs/pdf/fixtures/catalogues/catalogue-set.js';

const verbose = process.argv.includes('--verbose');
const documents = await loadCatalogueSet();
const pct = (value: number) => `${(value * 100).toFixed(1)} %`;

function report(title: string, scores: DocumentScore[]): ReturnType<typeof scoreTotals> {
  console.log(`\n${title}\n`);
  console.log('| document | products (truth) | found | right | precision | recall | properties right | property accuracy |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const score of scores) {
    console.log(
      `| ${score.document} | ${score.expected} | ${score.found} | ${score.truePositives} | ${pct(score.precision)} | ${pct(score.recall)} | ${score.propertiesRight}/${score.propertiesStated} | ${pct(score.propertyAccuracy)} |`,
    );
  }
  const totals = scoreTotals(scores);
  console.log(`| **overall** | ${totals.expected} | ${totals.found} | ${totals.truePositives} | ${pct(totals.precision)} | ${pct(totals.recall)} | | ${pct(totals.propertyAccuracy)} |`);
  for (const score of scores) {
    if (!verbose && score.falsePositives.length + score.missed.length + score.wrongProperties.length === 0) continue;
    const notes = [
      ...score.falsePositives.map((name) => `not a product: ${name}`),
      ...score.missed.map((name) => `missed: ${name}`),
      ...score.wrongProperties,
    ];
    if (notes.length > 0) console.log(`\n${score.document}:\n${notes.map((note) => `  - ${note}`).join('\n')}`);
  }
  return totals;
}

const rules = report('Built-in extractor (rules)', await scoreExtractor(new RuleBasedMaterialExtractor(), documents));
const tabbed = report(
  'Built-in extractor on the same documents with table cells joined by tabs (the text stage contract; text made from the generator layout, not the PDF)',
  await scoreExtractor(new RuleBasedMaterialExtractor(), withContractText(documents)),
);
const verdict = rules.precision >= 0.85 && rules.recall >= 0.75;
console.log(`\nTarget precision ≥ 85 %, recall ≥ 75 %: ${verdict ? 'met' : 'NOT met'}`);

let llm: unknown;
const apiKey = process.env['ANTHROPIC_API_KEY'];
const model = process.env['ANTHROPIC_MODEL'];
if (apiKey !== undefined && apiKey !== '' && model !== undefined && model !== '') {
  const extractor: MaterialExtractor = new AnthropicMaterialExtractor({ apiKey, model });
  llm = report(`LLM provider (${extractor.name})`, await scoreExtractor(extractor, documents));
} else {
  // No key: check the provider's answer validation on the recorded sample answers.
  const folder = `${CATALOGUE_FOLDER}/llm-answers`;
  console.log('\nLLM provider: no ANTHROPIC_API_KEY/ANTHROPIC_MODEL here, so no figures; answer validation on recorded samples:\n');
  console.log('| recorded answer | outcome |');
  console.log('|---|---|');
  const outcomes: { file: string; accepted: boolean; asExpected: boolean; detail: string }[] = [];
  for (const file of readdirSync(folder).filter((name) => name.endsWith('.json')).sort()) {
    const sample = JSON.parse(readFileSync(`${folder}/${file}`, 'utf8')) as { pages: number[]; answer: string; document?: string; expect: { accepted: boolean } };
    try {
      const materials = parseMaterialAnswer(sample.answer, sample.pages, 'anthropic:recorded');
      let detail = `accepted: ${materials.length} materials`;
      const truth = documents.find((document) => document.name === sample.document)?.truth;
      if (truth !== undefined) {
        // Scored like the built-in extractor's answer for the same document.
        const score = scoreDocument(truth, mergeMaterials(materials));
        detail += `; against ${truth.document}: precision ${pct(score.precision)}, recall ${pct(score.recall)}, properties ${pct(score.propertyAccuracy)}`;
      }
      outcomes.push({ file, accepted: true, asExpected: sample.expect.accepted, detail });
    } catch (error) {
      outcomes.push({ file, accepted: false, asExpected: !sample.expect.accepted, detail: `rejected: ${(error as Error).message}` });
    }
  }
  for (const outcome of outcomes) console.log(`| ${outcome.file} | ${outcome.asExpected ? '' : 'UNEXPECTED '}${outcome.detail.replace(/\|/g, '\\|')} |`);
  llm = { recordedAnswers: outcomes };
}

console.log(JSON.stringify({ documents: documents.length, rules, tabbed, target: { precision: 0.85, recall: 0.75, met: verdict }, llm }));
