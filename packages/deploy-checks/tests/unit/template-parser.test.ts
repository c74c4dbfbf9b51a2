// biome-ignore-all lint/suspicious/noTemplateCurlyInString: CloudFormation ${...} placeholders, not template literals
import { parseTemplate, render, TemplateParseError } from '../../src/index.js';

const HEAD = 'AWSTemplateFormatVersion: "2010-09-09"\n';

describe('parseTemplate', () => {
  it('turns short-form intrinsics into their long form', () => {
    const t = parseTemplate(
      `${HEAD}Resources:
  Q:
    Type: AWS::SQS::Queue
    Properties:
      A: !Ref Name
      B: !GetAtt Other.Arn
      C: !Sub 'arn:\${AWS::Partition}:s3:::\${Name}/*'
      D: !If [Cond, !Ref X, !Ref AWS::NoValue]
      E: !Join ['-', [a, !Select [0, !Split ['/', !Ref AWS::StackId]]]]
      F: !Sub
        - '\${V}-x'
        - V: !Ref Y
`,
      'inline',
    );
    expect(t.Resources.Q?.Properties).toEqual({
      A: { Ref: 'Name' },
      B: { 'Fn::GetAtt': ['Other', 'Arn'] },
      C: { 'Fn::Sub': 'arn:${AWS::Partition}:s3:::${Name}/*' },
      D: { 'Fn::If': ['Cond', { Ref: 'X' }, { Ref: 'AWS::NoValue' }] },
      E: {
        'Fn::Join': [
          '-',
          ['a', { 'Fn::Select': [0, { 'Fn::Split': ['/', { Ref: 'AWS::StackId' }] }] }],
        ],
      },
      F: { 'Fn::Sub': ['${V}-x', { V: { Ref: 'Y' } }] },
    });
  });

  it('rejects anchors and aliases, which CloudFormation does not accept', () => {
    const text = `${HEAD}Resources:
  A:
    Type: AWS::SQS::Queue
    Properties: &shared
      DelaySeconds: 1
  B:
    Type: AWS::SQS::Queue
    Properties: *shared
`;
    expect(() => parseTemplate(text, 'anchors.yaml')).toThrow(TemplateParseError);
    expect(() => parseTemplate(text, 'anchors.yaml')).toThrow(/anchors\.yaml.*anchor &shared/);
  });

  it('names the file when the YAML is broken', () => {
    expect(() => parseTemplate(`${HEAD}Resources: [\n`, 'broken.yaml')).toThrow(/broken\.yaml/);
  });
});

describe('render', () => {
  it('expands both branches of an If and drops AWS::NoValue', () => {
    expect(render({ 'Fn::If': ['C', { Ref: 'A' }, { 'Fn::GetAtt': ['B', 'Arn'] }] })).toEqual([
      '${A}',
      '${B.Arn}',
    ]);
    expect(render({ 'Fn::If': ['C', { Ref: 'A' }, { Ref: 'AWS::NoValue' }] })).toEqual(['${A}']);
  });

  it('substitutes Sub variables, including alternatives', () => {
    expect(
      render({
        'Fn::Sub': [
          'arn:${AWS::Partition}:s3:::${Name}/${CtrPrefix}*',
          { Name: { 'Fn::If': ['New', { Ref: 'Bucket' }, { Ref: 'Existing' }] } },
        ],
      }),
    ).toEqual([
      'arn:${AWS::Partition}:s3:::${Bucket}/${CtrPrefix}*',
      'arn:${AWS::Partition}:s3:::${Existing}/${CtrPrefix}*',
    ]);
  });
});
