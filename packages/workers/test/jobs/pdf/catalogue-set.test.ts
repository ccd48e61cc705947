/**
 * The catalogue test set (fixtures/catalogues: 9 PDFs in 5 languages, hand-written ground
 * truth), text taken through the PDF job's text extraction: the built-in extractor must keep
 * its precision, recall and property accuracy on every document, and the LLM provider's answer
 * validation must accept the well-formed recorded answers and reject the malformed ones with a
 * reason. `pnpm bench --only=materials` prints the same figures.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseMaterialAnswer, RuleBasedMaterialExtractor, scoreTotals, type DocumentScore } from '@kai-jobs/workers';
import { CATALOGUE_FOLDER, loadCatalogueSet, scoreExtractor, withContractText, type CatalogueDocument } from './fixtures/catalogues/catalogue-set.js';

let documents: CatalogueDocument[] = [];
let scores: DocumentScore[] = [];
beforeAll(async () => {
  documents = await loadCatalogueSet();
  scores = await scoreExtractor(new RuleBasedMaterialExtractor(), documents);
}, 60_000);

describe('the catalogue test set', () => {
  it('has at least 8 documents of varied kinds in at least 3 languages', () => {
    expect(documents.length).toBeGreaterThanOrEqual(8);
    expect(new Set(documents.map((document) => document.truth.language)).size).toBeGreaterThanOrEqual(3);
    expect(documents.filter((document) => document.truth.products.length === 0).length).toBeGreaterThanOrEqual(2);
    for (const document of documents) expect(document.pages.some((page) => page.text.length > 50), document.name).toBe(true);
  });

  it('built-in extractor: precision ≥ 0.85, recall ≥ 0.75 and property accuracy ≥ 0.8 on every document', () => {
    for (const score of scores) {
      const detail = `${score.document}: ${JSON.stringify({ falsePositives: score.falsePositives, missed: score.missed, wrong: score.wrongProperties })}`;
      expect(score.precision, detail).toBeGreaterThanOrEqual(0.85);
      expect(score.recall, detail).toBeGreaterThanOrEqual(0.75);
      expect(score.propertyAccuracy, detail).toBeGreaterThanOrEqual(0.8);
    }
    const totals = scoreTotals(scores);
    expect(totals.precision).toBeGreaterThanOrEqual(0.9);
    expect(totals.recall).toBeGreaterThanOrEqual(0.9);
  });

  it('with table cells joined by tabs (the text stage contract), every document still meets the thresholds', async () => {
    for (const score of await scoreExtractor(new RuleBasedMaterialExtractor(), withContractText(documents))) {
      const detail = `${score.document}: ${JSON.stringify({ falsePositives: score.falsePositives, missed: score.missed, wrong: score.wrongProperties })}`;
      expect(score.precision, detail).toBeGreaterThanOrEqual(0.85);
      expect(score.recall, detail).toBeGreaterThanOrEqual(0.75);
      expect(score.propertyAccuracy, detail).toBeGreaterThanOrEqual(0.8);
    }
  });

  it('documents without products (contents page, installation guide) give none', () => {
    for (const score of scores.filter((s) => s.expected === 0)) expect(score.falsePositives, score.document).toEqual([]);
  });
});

describe('LLM provider: validation of recorded answers', () => {
  const folder = `${CATALOGUE_FOLDER}/llm-answers`;
  const files = readdirSync(folder).filter((name) => name.endsWith('.json'));

  it('has well-formed and malformed samples', () => {
    expect(files.length).toBeGreaterThanOrEqual(6);
  });

  for (const file of files) {
    const sample = JSON.parse(readFileSync(`${folder}/${file}`, 'utf8')) as {
      pages: number[];
      answer: string;
      expect: { accepted: true; materials: number } | { accepted: false; reason: string };
    };
    it(`${file}: ${sample.expect.accepted ? 'accepted' : 'rejected with a reason'}`, () => {
      const parse = () => parseMaterialAnswer(sample.answer, sample.pages, 'anthropic:recorded');
      if (sample.expect.accepted) {
        const materials = parse();
        expect(materials).toHaveLength(sample.expect.materials);
        for (const material of materials) expect(material.extractor).toBe('anthropic:recorded');
      } else expect(parse).toThrow(sample.expect.reason);
    });
  }
});
