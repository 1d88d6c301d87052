// A small corpus with known facts, generated as real files: a three-page PDF (pdf-lib), a DOCX with
// headings (docx), Markdown, HTML, CSV and text, plus a corrupt PDF. Each question names the file and
// (for the PDF) the page whose passage holds its answer, so retrieval and citations can be checked.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Document, HeadingLevel, Packer, Paragraph } from 'docx';
import { PDFDocument, StandardFonts } from 'pdf-lib';

export interface Question {
  question: string;
  file: string;
  page: number | null;
  /** A phrase the passage that answers must contain. */
  contains: string;
}

const FILLER = [
  'The committee met on a grey morning and reviewed the minutes of the previous session before turning to other business.',
  'Several members asked for more time to read the appendix, which ran to forty pages of tables and footnotes.',
  'Coffee was served at eleven, and the discussion resumed shortly afterwards with a summary of open actions.',
  'Nothing in this paragraph matters for the questions; it is here so that the documents have some bulk.',
];

function filler(n: number, seed = 0): string {
  return Array.from({ length: n }, (_, i) => FILLER[(i + seed) % FILLER.length]).join(' ');
}

export async function makePdf(pages: string[][]): Promise<Buffer> {
  const pdf = await PDFDocument.create();
  const font = await pdf.embedFont(StandardFonts.Helvetica);
  for (const lines of pages) {
    const page = pdf.addPage([612, 792]);
    let y = 740;
    for (const line of lines) {
      // pdf-lib does not wrap: split long lines into ~90-character rows.
      const words = line.split(' ');
      let row = '';
      for (const w of words) {
        if ((row + ' ' + w).length > 90) {
          page.drawText(row, { x: 50, y, size: 10, font });
          y -= 14;
          row = w;
        } else row = row ? `${row} ${w}` : w;
      }
      if (row) {
        page.drawText(row, { x: 50, y, size: 10, font });
        y -= 14;
      }
      y -= 10;
    }
  }
  return Buffer.from(await pdf.save());
}

export async function makeDocx(sections: { heading: string; paragraphs: string[] }[]): Promise<Buffer> {
  const doc = new Document({
    sections: [
      {
        children: sections.flatMap((s) => [new Paragraph({ text: s.heading, heading: HeadingLevel.HEADING_1 }), ...s.paragraphs.map((p) => new Paragraph({ text: p }))]),
      },
    ],
  });
  return Buffer.from(await Packer.toBuffer(doc));
}

export const QUESTIONS: Question[] = [
  { question: 'What is the boiling point of the Velmora coolant?', file: 'handbook.pdf', page: 2, contains: '137 degrees' },
  { question: 'Who signed the Harwick lease agreement?', file: 'handbook.pdf', page: 3, contains: 'Imelda Quarrington' },
  { question: 'Which city hosts the annual lantern regatta?', file: 'handbook.pdf', page: 1, contains: 'Port Essary' },
  { question: 'How many turbines does the Ostrava wind farm have?', file: 'report.docx', page: null, contains: '47 turbines' },
  { question: 'What colour is the Pellucid finch?', file: 'report.docx', page: null, contains: 'saffron' },
  { question: 'What is the wifi password of the cabin?', file: 'notes.md', page: null, contains: 'tangerine-otter-42' },
  { question: 'When does the Brimble library close on Sundays?', file: 'notes.md', page: null, contains: '3:15 pm' },
  { question: 'Which dentist did we choose?', file: 'page.html', page: null, contains: 'Dr. Okonkwo' },
  { question: 'What did the Zephyrine invoice cost?', file: 'expenses.csv', page: null, contains: '1289.50' },
  { question: 'What is the serial number of the quartz telescope?', file: 'todo.txt', page: null, contains: 'QT-99812' },
];

/** Writes the corpus into `dir`; returns the file names (the corrupt PDF included). */
export async function writeCorpus(dir: string): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'handbook.pdf'),
    await makePdf([
      ['Chapter one: events.', filler(3, 0), 'The annual lantern regatta is hosted by the city of Port Essary every August.', filler(2, 1)],
      ['Chapter two: chemistry.', filler(2, 2), 'The Velmora coolant has a boiling point of 137 degrees Celsius at sea level.', filler(3, 3)],
      ['Chapter three: property.', filler(3, 1), 'The Harwick lease agreement was signed by Imelda Quarrington in 2019.', filler(2, 0)],
    ]),
  );
  writeFileSync(
    join(dir, 'report.docx'),
    await makeDocx([
      { heading: 'Energy', paragraphs: [filler(3, 2), 'The Ostrava wind farm has 47 turbines along the northern ridge.', filler(2, 3)] },
      { heading: 'Birds', paragraphs: [filler(2, 1), 'The Pellucid finch is saffron yellow with a black cap.', filler(3, 0)] },
    ]),
  );
  writeFileSync(
    join(dir, 'notes.md'),
    `# Cabin notes\n\n${filler(3, 0)}\n\n## Internet\n\nThe wifi password of the cabin is tangerine-otter-42 (case sensitive).\n\n${filler(2, 2)}\n\n# Town\n\n${filler(2, 3)}\n\nThe Brimble library closes at 3:15 pm on Sundays and opens late on Mondays.\n`,
  );
  writeFileSync(
    join(dir, 'page.html'),
    `<!doctype html><html><head><title>Health</title><style>p{color:red}</style></head><body><h1>Family health</h1><p>${filler(2, 1)}</p><h2>Dentist</h2><p>We chose Dr. Okonkwo on Mill Street as our dentist &amp; hygienist.</p></body></html>`,
  );
  writeFileSync(join(dir, 'expenses.csv'), 'date,vendor,amount,note\n2026-01-03,Grocer,54.20,weekly shop\n2026-02-11,Zephyrine,1289.50,invoice for the roof repair\n2026-03-01,Cinema,24.00,tickets\n');
  writeFileSync(join(dir, 'todo.txt'), `Things to do\n\n${filler(2, 0)}\n\nRegister the quartz telescope: its serial number is QT-99812.\n`);
  // Looks like a PDF by its name and first bytes, but is not one.
  writeFileSync(join(dir, 'broken.pdf'), Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.from('this is not really a pdf at all\n'.repeat(20))]));
  return ['handbook.pdf', 'report.docx', 'notes.md', 'page.html', 'expenses.csv', 'todo.txt', 'broken.pdf'];
}
