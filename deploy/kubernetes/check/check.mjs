// Validates rendered Kubernetes manifests offline, custom resources included, in two ways:
//   - each object against the published schema of its kind (kubernetes-models and the CRD packages of KEDA,
//     Strimzi and the Prometheus operator): types, required fields, enums, formats;
//   - its fields against the published types of its kind, with TypeScript, which refuses any field the type does
//     not name, however deep (a typo such as `replica:`), where the schemas let unknown fields through.
// Usage: node check.mjs FILE...            exits 1, naming each problem, when an object is wrong
//        node check.mjs --self-test FILE   exits 1 unless typos put into its first Deployment and ScaledObject are found
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";

const HERE = dirname(fileURLToPath(import.meta.url));
/** API groups served by a CRD package, and the package; every other group is Kubernetes' own. */
const CRD_PACKAGES = {
  "keda.sh": "@kubernetes-models/keda",
  "kafka.strimzi.io": "@kubernetes-models/strimzi-kafka-operator",
  "monitoring.coreos.com": "@kubernetes-models/prometheus-operator",
};

/** The module of an apiVersion's kinds: `kubernetes-models/apps/v1`, `@kubernetes-models/keda/keda.sh/v1alpha1`. */
function moduleOf(apiVersion) {
  const group = apiVersion.includes("/") ? apiVersion.slice(0, apiVersion.indexOf("/")) : "";
  const crds = CRD_PACKAGES[group];
  return crds ? `${crds}/${apiVersion}` : `kubernetes-models/${apiVersion}`;
}

function nameOf(object, file) {
  const meta = object.metadata ?? {};
  return `${file}: ${object.kind} ${meta.namespace ? meta.namespace + "/" : ""}${meta.name}`;
}

function readObjects(file) {
  const objects = [];
  for (const doc of parseAllDocuments(readFileSync(file, "utf8"))) {
    if (doc.errors.length > 0) {
      throw new Error(`${file}: not YAML: ${doc.errors[0].message}`);
    }
    const object = doc.toJS();
    if (object !== null) {
      objects.push({ file, object });
    }
  }
  return objects;
}

/** Problems found by the schemas. */
async function schemaProblems(objects) {
  const problems = [];
  for (const { file, object } of objects) {
    if (typeof object.apiVersion !== "string" || typeof object.kind !== "string") {
      problems.push(`${file}: an object without apiVersion and kind`);
      continue;
    }
    let model;
    try {
      model = (await import(moduleOf(object.apiVersion)))[object.kind];
    } catch (e) {
      model = undefined;
    }
    if (typeof model !== "function") {
      problems.push(`${nameOf(object, file)}: no published schema for ${object.apiVersion} ${object.kind}`);
      continue;
    }
    try {
      new model(object).validate();
    } catch (e) {
      problems.push(`${nameOf(object, file)}: ${e.message}`);
    }
  }
  return problems;
}

/** Problems found by TypeScript: fields the kind's type does not name, and values of the wrong type. */
function typeProblems(objects) {
  const dir = join(HERE, "target");
  mkdirSync(dir, { recursive: true });
  const lines = [];
  const startLines = [];
  objects.forEach(({ object }, i) => {
    lines.push(`import type { I${object.kind} as T${i} } from "${moduleOf(object.apiVersion)}/${object.kind}";`);
  });
  let lineCount = lines.length;
  objects.forEach(({ object }, i) => {
    const declaration = `export const o${i}: T${i} = ${JSON.stringify(object, null, 1)};`;
    startLines.push(lineCount + 1);
    lines.push(declaration);
    lineCount += declaration.split("\n").length;
  });
  const source = join(dir, "objects.ts");
  writeFileSync(source, lines.join("\n") + "\n");
  let output = "";
  try {
    execFileSync(join(HERE, "node_modules", ".bin", "tsc"), ["--noEmit", "--strict", "--skipLibCheck", "--target", "es2022",
      "--module", "nodenext", "--moduleResolution", "nodenext", source], { cwd: HERE, encoding: "utf8" });
  } catch (e) {
    output = `${e.stdout ?? ""}${e.stderr ?? ""}`;
    if (!output.trim()) {
      throw e;
    }
  }
  const problems = [];
  for (const line of output.split("\n").filter((l) => l.trim())) {
    const at = /objects\.ts\((\d+),\d+\): (.*)/.exec(line);
    if (!at) {
      problems.push(line);
      continue;
    }
    const lineNumber = Number(at[1]);
    let index = -1;
    startLines.forEach((start, i) => {
      if (start <= lineNumber) {
        index = i;
      }
    });
    problems.push(index < 0 ? at[2] : `${nameOf(objects[index].object, objects[index].file)}: ${at[2]}`);
  }
  return problems;
}

async function problemsOf(objects) {
  const typed = objects.filter(({ object }) => typeof object.apiVersion === "string" && typeof object.kind === "string");
  return [...(await schemaProblems(objects)), ...typeProblems(typed)];
}

/** The objects with a typo in the first Deployment's spec and in the first ScaledObject's first trigger. */
function withTypos(objects) {
  const copy = structuredClone(objects);
  const deployment = copy.find(({ object }) => object.kind === "Deployment");
  const scaledObject = copy.find(({ object }) => object.kind === "ScaledObject");
  if (!deployment || !scaledObject) {
    throw new Error("the self-test needs a Deployment and a ScaledObject");
  }
  deployment.object.spec.replica = 2;
  scaledObject.object.spec.triggers[0].metricTyp = "AverageValue";
  return { copy, deployment: deployment.object, scaledObject: scaledObject.object };
}

const args = process.argv.slice(2);
if (args[0] === "--self-test") {
  const { copy, deployment, scaledObject } = withTypos(readObjects(args[1]));
  const problems = await problemsOf(copy);
  const expected = [
    [deployment, `"replica"' does not exist`],
    [scaledObject, `"metricTyp"' does not exist`],
  ];
  let missed = 0;
  for (const [object, words] of expected) {
    const found = problems.find((p) => p.startsWith(nameOf(object, args[1]) + ":") && p.includes(words));
    console.log(found ? `found as expected: ${found}` : `NOT FOUND: ${words} in ${nameOf(object, args[1])}`);
    missed += found ? 0 : 1;
  }
  process.exit(missed === 0 ? 0 : 1);
}
const objects = args.flatMap(readObjects);
const problems = await problemsOf(objects);
problems.forEach((p) => console.log(p));
console.log(`${objects.length} objects in ${args.length} files: ${problems.length} problems`);
process.exit(problems.length === 0 ? 0 : 1);
